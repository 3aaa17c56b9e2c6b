// Where the API server is and how to authenticate: kubeconfig files and the in-cluster service
// account. Only reads files; all TLS work happens in http_kube_client.cc.
#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "operator/kube/base64.h"
#include "operator/kube/kube_client.h"

namespace partop::kube {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& message) {
  throw std::runtime_error(message);
}

std::string read_file(const fs::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(what + ": cannot read file " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(what + ": error reading file " + path.string());
  return text.str();
}

std::string trim(std::string text) {
  const char* space = " \t\r\n";
  text.erase(0, text.find_first_not_of(space));
  text.erase(text.find_last_not_of(space) + 1);
  return text;
}

// The `name`d entry of a kubeconfig list (clusters, users, contexts) and its `key` map.
YAML::Node named_entry(const YAML::Node& root, const std::string& list, const std::string& key,
                       const std::string& name) {
  const YAML::Node entries = root[list];
  if (entries && !entries.IsSequence()) fail(list + ": must be a list");
  if (entries) {
    for (const YAML::Node& entry : entries) {
      if (entry.IsMap() && entry["name"] && entry["name"].IsScalar() &&
          entry["name"].Scalar() == name) {
        const YAML::Node body = entry[key];
        if (body && !body.IsMap()) fail(list + "[" + name + "]." + key + ": must be a map");
        return body ? body : YAML::Node(YAML::NodeType::Map);
      }
    }
  }
  fail(list + ": no entry named \"" + name + "\"");
}

// Reads the kubeconfig fields of one map, naming each by its full path in errors.
class Fields {
 public:
  Fields(YAML::Node node, std::string path, fs::path dir)
      : node_(std::move(node)), path_(std::move(path)), dir_(std::move(dir)) {}

  std::string field(const std::string& key) const { return path_ + "." + key; }

  std::optional<std::string> string(const std::string& key) const {
    const YAML::Node value = node_[key];
    if (!value || value.IsNull()) return std::nullopt;
    if (!value.IsScalar()) fail(field(key) + ": must be a string");
    return value.Scalar();
  }

  bool boolean(const std::string& key) const {
    const YAML::Node value = node_[key];
    if (!value || value.IsNull()) return false;
    bool result = false;
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, result)) {
      fail(field(key) + ": must be true or false");
    }
    return result;
  }

  // A path relative to the kubeconfig's directory, made absolute.
  std::optional<std::string> file_path(const std::string& key) const {
    auto value = string(key);
    if (!value || value->empty()) return std::nullopt;
    fs::path path(*value);
    return (path.is_absolute() ? path : dir_ / path).lexically_normal().string();
  }

  // The content of `key`-data (base64) or else of the file named by `key`; empty when neither.
  std::string data_or_file(const std::string& key) const {
    if (auto data = string(key + "-data"); data && !data->empty()) {
      auto decoded = base64_decode(*data);
      if (!decoded) fail(field(key + "-data") + ": not valid base64");
      return *decoded;
    }
    if (auto path = file_path(key)) return read_file(*path, field(key));
    return "";
  }

 private:
  YAML::Node node_;
  std::string path_;
  fs::path dir_;
};

}  // namespace

Config load_kubeconfig(const std::string& path, const std::string& context) {
  try {
    YAML::Node root;
    try {
      root = YAML::Load(read_file(path, "kubeconfig"));
    } catch (const YAML::Exception& e) {
      fail("not valid YAML: " + std::string(e.what()));
    }
    if (!root.IsMap()) fail("not a kubeconfig (expected a map with clusters, users, contexts)");
    const fs::path dir = fs::absolute(fs::path(path)).parent_path();

    std::string context_name = context;
    if (context_name.empty()) {
      auto current = Fields(root, "", dir).string("current-context");
      if (!current || current->empty()) {
        fail("current-context is not set and no context was given");
      }
      context_name = *current;
    }
    const Fields ctx(named_entry(root, "contexts", "context", context_name),
                     "contexts[" + context_name + "].context", dir);

    Config config;
    auto cluster_name = ctx.string("cluster");
    if (!cluster_name || cluster_name->empty()) fail(ctx.field("cluster") + ": is required");
    const Fields cluster(named_entry(root, "clusters", "cluster", *cluster_name),
                         "clusters[" + *cluster_name + "].cluster", dir);
    auto server = cluster.string("server");
    if (!server || server->empty()) fail(cluster.field("server") + ": is required");
    config.server = *server;
    config.ca_pem = cluster.data_or_file("certificate-authority");
    config.insecure_skip_tls_verify = cluster.boolean("insecure-skip-tls-verify");

    // A context without a user authenticates only by what the server allows anonymously.
    if (auto user_name = ctx.string("user"); user_name && !user_name->empty()) {
      const YAML::Node node = named_entry(root, "users", "user", *user_name);
      const Fields user(node, "users[" + *user_name + "].user", dir);
      for (const char* unsupported : {"exec", "auth-provider", "username", "password"}) {
        if (node[unsupported]) fail(user.field(unsupported) + ": is not supported");
      }
      config.token = user.string("token").value_or("");
      config.token_file = user.file_path("tokenFile").value_or("");
      config.client_cert_pem = user.data_or_file("client-certificate");
      config.client_key_pem = user.data_or_file("client-key");
      if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
        fail(user.field(config.client_cert_pem.empty() ? "client-certificate" : "client-key") +
             ": is required together with " +
             (config.client_cert_pem.empty() ? "client-key" : "client-certificate"));
      }
    }
    if (auto ns = ctx.string("namespace"); ns && !ns->empty()) config.namespace_name = *ns;
    return config;
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("kubeconfig " + path + ": " + e.what());
  }
}

Config in_cluster_config(const std::string& root) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    fail(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not "
        "set");
  }
  const fs::path dir(root);
  Config config;
  const std::string host_text(host);
  // An IPv6 service address needs brackets in a URL.
  config.server = "https://" +
                  (host_text.find(':') != std::string::npos ? "[" + host_text + "]" : host_text) +
                  ":" + port;
  config.token_file = (dir / "token").string();
  // Read once now so that a missing token fails at startup, not on the first request.
  read_file(config.token_file, "in-cluster service-account token");
  // The CA is required: falling back to the system CAs would trust far more than the cluster.
  config.ca_pem = read_file(dir / "ca.crt", "in-cluster CA");
  if (fs::exists(dir / "namespace")) {
    std::string ns = trim(read_file(dir / "namespace", "in-cluster namespace"));
    if (!ns.empty()) config.namespace_name = ns;
  }
  return config;
}

}  // namespace partop::kube
