// The side-effect boundary to the Kubernetes API server: JSON requests and watch streams over
// HTTPS. Implemented over cpp-httplib + OpenSSL by http_kube_client; the operator's runtime and
// controllers depend only on this interface.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace partop::kube {

struct Response {
  int status = 0;       // HTTP status; 0 when no response arrived (connection failure)
  nlohmann::json body;  // parsed JSON body; null when empty or not JSON
  std::string error;    // transport error or the Status message, for logs
  bool ok() const { return status >= 200 && status < 300; }
};

enum class Method { kGet, kPost, kPut, kPatch, kDelete };

// Content type for PATCH (custom resources accept JSON merge patches, not strategic ones).
inline constexpr const char* kMergePatch = "application/merge-patch+json";

class Client {
 public:
  virtual ~Client() = default;

  // One request. `path` is absolute with its query ("/api/v1/namespaces/x/secrets/y").
  // Never throws for HTTP or transport errors: they are in the Response.
  virtual Response request(Method method, const std::string& path,
                           const std::optional<nlohmann::json>& body = std::nullopt,
                           const std::string& content_type = "application/json") = 0;

  // Opens a watch stream (path must carry ?watch=1 or watch=true) and calls `on_event` with each
  // event object ({"type": ..., "object": ...}) as it arrives. Returns when the server closes the
  // stream, on a transport error, when `on_event` returns false, or soon after `stop` becomes
  // true (within about a second). The Response carries the HTTP status (a 410 Gone arrives as an
  // ERROR event inside a 200 stream, not here) and any transport error.
  virtual Response watch(const std::string& path,
                         const std::function<bool(const nlohmann::json& event)>& on_event,
                         const std::atomic<bool>& stop) = 0;
};

// Where and how to reach the API server.
struct Config {
  std::string server;  // https://host:port
  std::string namespace_name = "default";
  std::string token;            // bearer token, may be empty
  std::string token_file;       // re-read on each request when set (projected tokens)
  std::string ca_pem;           // CA bundle (PEM) to verify the server; empty: system CAs
  std::string client_cert_pem;  // client certificate (PEM), may be empty
  std::string client_key_pem;   // client key (PEM), may be empty
  bool insecure_skip_tls_verify = false;
};

// Reads a kubeconfig file: the current context (or `context` when given), its cluster's server
// and certificate-authority(-data), insecure-skip-tls-verify, its user's token / tokenFile /
// client-certificate(-data) / client-key(-data), and the context's namespace. Relative file
// paths are resolved against the kubeconfig's directory. Throws std::runtime_error naming the
// missing or invalid field.
Config load_kubeconfig(const std::string& path, const std::string& context = "");

// In-cluster configuration: KUBERNETES_SERVICE_HOST/PORT, the service-account token file, CA and
// namespace under /var/run/secrets/kubernetes.io/serviceaccount (`root` overrides that dir for
// tests). Throws std::runtime_error when not running in a cluster.
Config in_cluster_config(const std::string& root = "/var/run/secrets/kubernetes.io/serviceaccount");

// A Client over HTTPS. TLS is verified against `ca_pem` (or the system store) unless
// insecure_skip_tls_verify is set. Safe to use from several threads at once.
std::unique_ptr<Client> make_http_client(const Config& config);

// Percent-encodes a value for use in a query string (label selectors, field selectors).
std::string url_encode(const std::string& value);

}  // namespace partop::kube
