#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "operator/kube/kube_client.h"

namespace partop::kube {
namespace {

namespace fs = std::filesystem;

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "partop-kube-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

  std::string write(const std::string& name, const std::string& text) const {
    fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }

 private:
  fs::path path_;
};

// Sets an environment variable for one scope and restores the previous value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// base64 of "CERT PEM" and "KEY PEM"
constexpr const char* kCertData = "Q0VSVCBQRU0=";
constexpr const char* kKeyData = "S0VZIFBFTQ==";

TEST_CASE("load_kubeconfig: token user, CA file relative to the kubeconfig, namespace") {
  TempDir dir;
  dir.write("certs/ca.crt", "CA PEM");
  std::string path = dir.write("kubeconfig", R"(
apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: {server: https://other:1}
- name: main
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: certs/ca.crt
users:
- name: admin
  user:
    token: abc123
contexts:
- name: main
  context: {cluster: main, user: admin, namespace: apps}
current-context: main
)");
  Config config = load_kubeconfig(path);
  CHECK(config.server == "https://127.0.0.1:6443");
  CHECK(config.ca_pem == "CA PEM");
  CHECK(config.token == "abc123");
  CHECK(config.token_file.empty());
  CHECK(config.namespace_name == "apps");
  CHECK_FALSE(config.insecure_skip_tls_verify);
  CHECK(config.client_cert_pem.empty());
}

TEST_CASE("load_kubeconfig: client certificate and key data, CA data, default namespace") {
  TempDir dir;
  std::string path = dir.write("kubeconfig", std::string(R"(
clusters:
- name: c
  cluster:
    server: https://api.example:443
    certificate-authority-data: )") + kCertData + R"(
users:
- name: u
  user:
    client-certificate-data: )" + kCertData + R"(
    client-key-data: )" + kKeyData + R"(
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)");
  Config config = load_kubeconfig(path);
  CHECK(config.ca_pem == "CERT PEM");
  CHECK(config.client_cert_pem == "CERT PEM");
  CHECK(config.client_key_pem == "KEY PEM");
  CHECK(config.token.empty());
  CHECK(config.namespace_name == "default");
}

TEST_CASE("load_kubeconfig: client certificate and key files, tokenFile resolved") {
  TempDir dir;
  dir.write("pki/client.crt", "CLIENT CERT");
  dir.write("pki/client.key", "CLIENT KEY");
  std::string path = dir.write("kubeconfig", R"(
clusters:
- {name: c, cluster: {server: "https://h:1"}}
users:
- name: u
  user:
    client-certificate: pki/client.crt
    client-key: pki/client.key
    tokenFile: pki/token
contexts:
- {name: x, context: {cluster: c, user: u}}
current-context: x
)");
  Config config = load_kubeconfig(path);
  CHECK(config.client_cert_pem == "CLIENT CERT");
  CHECK(config.client_key_pem == "CLIENT KEY");
  CHECK(config.token_file == (dir.path() / "pki/token").string());
}

TEST_CASE("load_kubeconfig: insecure-skip-tls-verify and explicit context selection") {
  TempDir dir;
  std::string path = dir.write("kubeconfig", R"(
clusters:
- {name: a, cluster: {server: "https://a:1"}}
- {name: b, cluster: {server: "https://b:2", insecure-skip-tls-verify: true}}
users:
- {name: ua, user: {token: ta}}
- {name: ub, user: {token: tb}}
contexts:
- {name: ca, context: {cluster: a, user: ua}}
- {name: cb, context: {cluster: b, user: ub, namespace: nb}}
current-context: ca
)");
  Config current = load_kubeconfig(path);
  CHECK(current.server == "https://a:1");
  CHECK(current.token == "ta");
  CHECK_FALSE(current.insecure_skip_tls_verify);

  Config chosen = load_kubeconfig(path, "cb");
  CHECK(chosen.server == "https://b:2");
  CHECK(chosen.token == "tb");
  CHECK(chosen.namespace_name == "nb");
  CHECK(chosen.insecure_skip_tls_verify);
}

TEST_CASE("load_kubeconfig: errors name the missing or invalid field") {
  TempDir dir;
  auto error_for = [&](const std::string& text, const std::string& context = "") {
    std::string path = dir.write("kubeconfig", text);
    return error_of([&] { load_kubeconfig(path, context); });
  };
  const std::string base = R"(
clusters:
- {name: c, cluster: {server: "https://h:1"}}
users:
- {name: u, user: {token: t}}
contexts:
- {name: x, context: {cluster: c, user: u}}
)";

  CHECK(error_for(base).find("current-context is not set") != std::string::npos);
  CHECK(error_for(base, "nope").find("contexts: no entry named \"nope\"") != std::string::npos);
  CHECK(error_for(base + "current-context: x\n").empty());

  CHECK(error_for(R"(
clusters:
- {name: c, cluster: {certificate-authority-data: "QQ=="}}
contexts:
- {name: x, context: {cluster: c}}
current-context: x
)")
            .find("clusters[c].cluster.server: is required") != std::string::npos);

  CHECK(error_for(R"(
clusters:
- {name: c, cluster: {server: "https://h:1", certificate-authority-data: "not base64!"}}
contexts:
- {name: x, context: {cluster: c}}
current-context: x
)")
            .find("clusters[c].cluster.certificate-authority-data: not valid base64") !=
        std::string::npos);

  CHECK(error_for(R"(
clusters:
- {name: c, cluster: {server: "https://h:1", insecure-skip-tls-verify: maybe}}
contexts:
- {name: x, context: {cluster: c}}
current-context: x
)")
            .find("clusters[c].cluster.insecure-skip-tls-verify: must be true or false") !=
        std::string::npos);

  CHECK(error_for(R"(
clusters:
- {name: c, cluster: {server: "https://h:1"}}
users:
- {name: u, user: {client-certificate-data: "QQ=="}}
contexts:
- {name: x, context: {cluster: c, user: u}}
current-context: x
)")
            .find("users[u].user.client-key: is required together with client-certificate") !=
        std::string::npos);

  CHECK(error_for(R"(
clusters:
- {name: c, cluster: {server: "https://h:1"}}
users:
- {name: u, user: {exec: {command: aws}}}
contexts:
- {name: x, context: {cluster: c, user: u}}
current-context: x
)")
            .find("users[u].user.exec: is not supported") != std::string::npos);

  CHECK(error_for(R"(
clusters:
- {name: c, cluster: {server: "https://h:1", certificate-authority: missing.crt}}
contexts:
- {name: x, context: {cluster: c}}
current-context: x
)")
            .find("clusters[c].cluster.certificate-authority: cannot read file") !=
        std::string::npos);

  CHECK(error_for("[1, 2]").find("not a kubeconfig") != std::string::npos);
  CHECK(error_for("a: [").find("not valid YAML") != std::string::npos);
  CHECK(error_of([] { load_kubeconfig("/nonexistent/kubeconfig"); }).find("cannot read file") !=
        std::string::npos);
}

TEST_CASE("in_cluster_config reads the service account directory and the service env vars") {
  TempDir dir;
  dir.write("token", "sa-token\n");
  dir.write("ca.crt", "CLUSTER CA");
  dir.write("namespace", "partop-system\n");
  {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.0.0.1");
    ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
    Config config = in_cluster_config(dir.path().string());
    CHECK(config.server == "https://10.0.0.1:443");
    CHECK(config.token_file == (dir.path() / "token").string());
    CHECK(config.token.empty());
    CHECK(config.ca_pem == "CLUSTER CA");
    CHECK(config.namespace_name == "partop-system");
  }
  {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", "fd00::1");
    ScopedEnv port("KUBERNETES_SERVICE_PORT", "6443");
    CHECK(in_cluster_config(dir.path().string()).server == "https://[fd00::1]:6443");
    fs::remove(dir.path() / "namespace");
    CHECK(in_cluster_config(dir.path().string()).namespace_name == "default");
    fs::remove(dir.path() / "ca.crt");
    CHECK(error_of([&] { in_cluster_config(dir.path().string()); }).find("in-cluster CA") !=
          std::string::npos);
  }
  {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", nullptr);
    ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
    CHECK(error_of([&] {
            in_cluster_config(dir.path().string());
          }).find("not running in a cluster") != std::string::npos);
  }
}

TEST_CASE("url_encode percent-encodes all but unreserved characters") {
  CHECK(url_encode("") == "");
  CHECK(url_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(url_encode("app=web,tier!=db") == "app%3Dweb%2Ctier%21%3Ddb");
  CHECK(url_encode("a b/c?d&e+f%") == "a%20b%2Fc%3Fd%26e%2Bf%25");
  CHECK(url_encode("\xc3\xa9") == "%C3%A9");
}

TEST_CASE("make_http_client rejects a bad server URL or bad PEM") {
  Config config;
  config.server = "http://127.0.0.1:8080";
  CHECK(error_of([&] { make_http_client(config); }).find("must start with https://") !=
        std::string::npos);
  config.server = "https://127.0.0.1:99999";
  CHECK(error_of([&] { make_http_client(config); }).find("invalid port") != std::string::npos);
  config.server = "https://127.0.0.1:6443";
  config.ca_pem = "not a certificate";
  CHECK(error_of([&] { make_http_client(config); }).find("certificate authority") !=
        std::string::npos);
  config.ca_pem.clear();
  config.client_cert_pem = "x";
  CHECK(error_of([&] { make_http_client(config); }).find("must be given together") !=
        std::string::npos);
}

TEST_CASE("transport errors are in the Response, and a stopped watch returns at once") {
  // A bound socket that does not listen: connecting to its port is refused.
  int sock = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(sock >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(getsockname(sock, reinterpret_cast<sockaddr*>(&address), &length) == 0);

  Config config;
  config.server = "https://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  auto client = make_http_client(config);
  Response response = client->request(Method::kGet, "/api/v1/namespaces");
  CHECK(response.status == 0);
  CHECK_FALSE(response.ok());
  CHECK(response.error.find("cannot connect") != std::string::npos);

  config.token_file = "/nonexistent/token";
  response = make_http_client(config)->request(Method::kGet, "/api");
  CHECK(response.error.find("cannot read token file") != std::string::npos);

  std::atomic<bool> stop{true};
  auto start = std::chrono::steady_clock::now();
  response = client->watch(
      "/api/v1/configmaps?watch=1", [](const nlohmann::json&) { return true; }, stop);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100));
  CHECK(response.error.empty());
  close(sock);
}

}  // namespace
}  // namespace partop::kube
