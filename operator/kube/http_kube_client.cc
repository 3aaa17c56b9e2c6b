// kube::Client over cpp-httplib's SSLClient and OpenSSL.
//
// Requests share a small pool of keep-alive connections (an httplib client serialises its own
// requests, so concurrent callers each take one from the pool or open a new one). A watch gets a
// connection of its own, which a monitor thread shuts down when `stop` becomes true.
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <exception>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "operator/kube/kube_client.h"

namespace partop::kube {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kConnectTimeout = 5s;  // TCP connect, and again the TLS handshake
constexpr auto kReadTimeout = 30s;    // per read while waiting for a request's response
constexpr auto kWriteTimeout = 30s;
// A watch may be silent for as long as nothing changes; the API server ends it after at most
// 2 x --min-request-timeout (60 min by default), so only a hung stream reaches this. TCP
// keepalive (below) notices a vanished peer much sooner.
constexpr auto kWatchReadTimeout = 65min;
constexpr auto kStopPollInterval = 100ms;  // how often a watch's monitor looks at `stop`
constexpr size_t kMaxIdleConnections = 4;
constexpr size_t kMaxWatchEventBytes = size_t{64} << 20;
constexpr size_t kMaxErrorBodyBytes = size_t{1} << 20;

// ------------------------------------------------------------------------------------------
// OpenSSL objects, owned.

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;

// Never prompt on the terminal for a passphrase (OpenSSL's default for encrypted keys).
int no_passphrase(char*, int, int, void*) {
  return 0;
}

std::string take_openssl_error() {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

BioPtr memory_bio(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw std::runtime_error("BIO_new_mem_buf: " + take_openssl_error());
  return bio;
}

// Every certificate of a PEM bundle, in order; throws naming `what` when there is none or one
// is malformed.
std::vector<X509Ptr> read_certificates(const std::string& pem, const std::string& what) {
  BioPtr bio = memory_bio(pem);
  std::vector<X509Ptr> certificates;
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)}) {
    certificates.push_back(std::move(cert));
  }
  // The loop ends with PEM_R_NO_START_LINE at the end of the input; anything else is an error.
  unsigned long code = ERR_peek_last_error();
  if (code != 0 &&
      !(ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE)) {
    throw std::invalid_argument(what + ": invalid PEM certificate: " + take_openssl_error());
  }
  ERR_clear_error();
  if (certificates.empty()) throw std::invalid_argument(what + ": no PEM certificate found");
  return certificates;
}

PkeyPtr read_private_key(const std::string& pem) {
  BioPtr bio = memory_bio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    throw std::invalid_argument("client key: not an unencrypted PEM private key: " +
                                take_openssl_error());
  }
  return key;
}

// ------------------------------------------------------------------------------------------
// Server URL: https://host[:port][/path prefix]

struct Endpoint {
  std::string host;
  int port = 443;
  std::string prefix;  // path prefix of a proxied API server, without a trailing '/'
};

Endpoint parse_server(const std::string& server) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("server \"" + server + "\": " + why);
  };
  constexpr std::string_view kScheme = "https://";
  if (!server.starts_with(kScheme)) throw bad("must start with https://");
  std::string rest = server.substr(kScheme.size());
  Endpoint endpoint;
  size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    endpoint.prefix = rest.substr(slash);
    while (!endpoint.prefix.empty() && endpoint.prefix.back() == '/') endpoint.prefix.pop_back();
    rest.resize(slash);
  }
  std::string port;
  if (rest.starts_with('[')) {  // [IPv6]:port
    size_t close = rest.find(']');
    if (close == std::string::npos) throw bad("unterminated '['");
    endpoint.host = rest.substr(1, close - 1);
    std::string after = rest.substr(close + 1);
    if (!after.empty() && after[0] != ':') throw bad("unexpected text after ']'");
    if (!after.empty()) port = after.substr(1);
  } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    endpoint.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    endpoint.host = rest;
  }
  if (endpoint.host.empty()) throw bad("no host");
  if (!port.empty()) {
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
    if (ec != std::errc() || end != port.data() + port.size() || endpoint.port < 1 ||
        endpoint.port > 65535) {
      throw bad("invalid port");
    }
  }
  return endpoint;
}

// ------------------------------------------------------------------------------------------

const char* method_name(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
  }
  return "GET";
}

json parse_json(const std::string& text) {
  if (text.empty()) return nullptr;
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return value.is_discarded() ? json(nullptr) : value;
}

// The Kubernetes Status message of a failed response, else the HTTP status and body start.
std::string status_message(int status, const json& body, const std::string& raw_body) {
  if (body.is_object() && body.contains("message") && body["message"].is_string()) {
    return body["message"].get<std::string>();
  }
  std::string message = "HTTP " + std::to_string(status);
  if (!raw_body.empty()) message += ": " + raw_body.substr(0, 200);
  return message;
}

// Detects peers that vanished without closing (a long-silent watch would never notice).
void enable_tcp_keepalive(socket_t sock) {
  int on = 1, idle = 30, interval = 10, count = 3;
  setsockopt(sock, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  setsockopt(sock, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(sock, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  setsockopt(sock, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

// Ends a watch's connection from another thread once `stop` is true, looking every
// kStopPollInterval while alive. httplib passes each socket it creates to adopt() (through the
// socket-options callback); the monitor keeps a dup() of it and shutdown()s that, which wakes a
// read blocked in the request thread. Unlike ClientImpl::stop(), which waits while httplib
// connects, this also interrupts the TCP connect and the TLS handshake; and since the dup is
// ours, the shutdown can never reach a descriptor number that httplib closed and the process
// reused.
class StopMonitor {
 public:
  explicit StopMonitor(const std::atomic<bool>& stop) : thread_([this, &stop] { run(stop); }) {}
  StopMonitor(const StopMonitor&) = delete;
  StopMonitor& operator=(const StopMonitor&) = delete;
  ~StopMonitor() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_one();
    thread_.join();
    if (socket_ >= 0) close(socket_);
  }

  // Called in the request thread for each new socket, before it connects.
  void adopt(socket_t sock) {
    int copy = fcntl(sock, F_DUPFD_CLOEXEC, 0);  // on failure, `stop` acts on the next data
    std::lock_guard lock(mutex_);
    if (socket_ >= 0) close(socket_);
    socket_ = copy;
  }

 private:
  void run(const std::atomic<bool>& stop) {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, kStopPollInterval, [this] { return done_; })) {
      // Repeated: the socket may not exist yet when `stop` flips.
      if (stop.load() && socket_ >= 0) shutdown(socket_, SHUT_RDWR);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  int socket_ = -1;     // our dup of the connection's current socket
  std::thread thread_;  // last: starts once the members above exist
};

class HttpClient final : public Client {
 public:
  explicit HttpClient(const Config& config)
      : config_(config), endpoint_(parse_server(config.server)) {
    if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
      throw std::invalid_argument("client certificate and client key must be given together");
    }
    if (!config.client_cert_pem.empty()) {
      std::vector<X509Ptr> chain = read_certificates(config.client_cert_pem, "client certificate");
      client_key_ = read_private_key(config.client_key_pem);
      if (X509_check_private_key(chain.front().get(), client_key_.get()) != 1) {
        ERR_clear_error();
        throw std::invalid_argument("client certificate and client key do not match");
      }
      client_cert_ = std::move(chain.front());
      client_chain_.assign(std::make_move_iterator(chain.begin() + 1),
                           std::make_move_iterator(chain.end()));
    }
    if (!config.ca_pem.empty() && !config.insecure_skip_tls_verify) {
      ca_store_.reset(X509_STORE_new());
      if (!ca_store_) throw std::runtime_error("X509_STORE_new: " + take_openssl_error());
      for (const X509Ptr& cert : read_certificates(config.ca_pem, "certificate authority")) {
        if (X509_STORE_add_cert(ca_store_.get(), cert.get()) != 1) {
          throw std::invalid_argument("certificate authority: " + take_openssl_error());
        }
      }
    }
    // Writing to a TLS connection the server has closed raises SIGPIPE (OpenSSL writes with
    // plain write()), which would kill the process; the failed write is reported instead.
    static std::once_flag ignore_sigpipe;
    std::call_once(ignore_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
  }

  Response request(Method method, const std::string& path, const std::optional<json>& body,
                   const std::string& content_type) override {
    Response response;
    httplib::Request req;
    req.method = method_name(method);
    req.path = endpoint_.prefix + path;
    response.error = add_headers(req.headers);
    if (!response.error.empty()) return response;
    if (body) {
      // Invalid UTF-8 in a string is replaced rather than thrown: a status message quoting
      // foreign text must not take the controller down.
      req.body = body->dump(-1, ' ', false, json::error_handler_t::replace);
      req.set_header("Content-Type", content_type);
    }

    std::unique_ptr<httplib::SSLClient> connection = acquire();
    httplib::Result result = connection->send(req);
    if (!result) {
      response.error = transport_error(result.error(), *connection);
      return response;  // the connection is dropped, not pooled
    }
    response.status = result->status;
    response.body = parse_json(result->body);
    if (!response.ok()) {
      response.error = status_message(response.status, response.body, result->body);
    }
    release(std::move(connection));
    return response;
  }

  Response watch(const std::string& path, const std::function<bool(const json& event)>& on_event,
                 const std::atomic<bool>& stop) override {
    Response response;
    if (stop.load()) return response;
    httplib::Request req;
    req.method = "GET";
    req.path = endpoint_.prefix + path;
    response.error = add_headers(req.headers);
    if (!response.error.empty()) return response;

    std::string pending;     // received bytes after the last newline
    std::string error_body;  // body of a non-2xx response
    bool cancelled = false;  // by on_event or `stop`: not an error
    std::exception_ptr callback_failure;
    req.response_handler = [&](const httplib::Response& head) {
      response.status = head.status;
      return true;
    };
    req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
      if (stop.load()) {
        cancelled = true;
        return false;
      }
      if (!response.ok()) {
        if (error_body.size() < kMaxErrorBodyBytes) {
          error_body.append(data, std::min(size, kMaxErrorBodyBytes - error_body.size()));
        }
        return true;
      }
      pending.append(data, size);
      // Each event is one JSON object on its own line.
      size_t start = 0;
      for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
        std::string_view line(pending.data() + start, end - start);
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        json event = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (event.is_discarded() || !event.is_object()) {
          response.error = "watch stream: an event is not a JSON object";
          return false;
        }
        bool more = false;
        try {
          more = on_event(event);  // exceptions are rethrown once httplib is out of the way
        } catch (...) {
          callback_failure = std::current_exception();
          return false;
        }
        if (!more || stop.load()) {
          cancelled = true;
          return false;
        }
      }
      pending.erase(0, start);
      if (pending.size() > kMaxWatchEventBytes) {
        response.error =
            "watch stream: an event exceeds " + std::to_string(kMaxWatchEventBytes >> 20) + " MiB";
        return false;
      }
      return true;
    };

    StopMonitor monitor(stop);  // declared first: outlives the connection that refers to it
    std::unique_ptr<httplib::SSLClient> connection = new_connection(kWatchReadTimeout, false);
    connection->set_socket_options([&monitor](socket_t sock) {
      enable_tcp_keepalive(sock);
      monitor.adopt(sock);
    });
    httplib::Result result = connection->send(req);
    if (callback_failure) std::rethrow_exception(callback_failure);

    if (!result && response.error.empty() && !cancelled && !stop.load()) {
      response.error = transport_error(result.error(), *connection);
    }
    if (response.status != 0 && !response.ok()) {
      response.body = parse_json(error_body);
      response.error = status_message(response.status, response.body, error_body);
    }
    return response;
  }

 private:
  // Authorization and Accept headers; returns an error text when the token file is unreadable.
  // token_file wins over token and is re-read every time: projected tokens are rotated on disk.
  std::string add_headers(httplib::Headers& headers) const {
    std::string token = config_.token;
    if (!config_.token_file.empty()) {
      std::ifstream in(config_.token_file);
      std::ostringstream text;
      text << in.rdbuf();
      if (!in) return "cannot read token file " + config_.token_file;
      token = text.str();
      while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
        token.pop_back();
      }
    }
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    headers.emplace("Accept", "application/json");
    headers.emplace("User-Agent", "partop");
    return "";
  }

  std::unique_ptr<httplib::SSLClient> new_connection(std::chrono::seconds read_timeout,
                                                     bool keep_alive) const {
    // The constructor takes its own references to the certificate and key.
    auto connection = std::make_unique<httplib::SSLClient>(endpoint_.host, endpoint_.port,
                                                           client_cert_.get(), client_key_.get());
    if (SSL_CTX* ctx = connection->ssl_context()) {
      SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
      for (const X509Ptr& cert : client_chain_) SSL_CTX_add1_chain_cert(ctx, cert.get());
      // The verify store, not set_ca_cert_store(): httplib adds the system CAs to the context's
      // cert store before each handshake, while a verify store is consulted alone, so a
      // kubeconfig's CA is the only one trusted (as with kubectl).
      if (ca_store_) SSL_CTX_set1_verify_cert_store(ctx, ca_store_.get());
    }
    connection->enable_server_certificate_verification(!config_.insecure_skip_tls_verify);
    connection->set_connection_timeout(kConnectTimeout);
    connection->set_read_timeout(read_timeout);
    connection->set_write_timeout(kWriteTimeout);
    connection->set_keep_alive(keep_alive);
    connection->set_socket_options(enable_tcp_keepalive);
    return connection;
  }

  std::unique_ptr<httplib::SSLClient> acquire() {
    {
      std::lock_guard lock(pool_mutex_);
      if (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
      }
    }
    return new_connection(kReadTimeout, true);
  }

  void release(std::unique_ptr<httplib::SSLClient> connection) {
    std::lock_guard lock(pool_mutex_);
    if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(connection));
  }

  std::string transport_error(httplib::Error error, const httplib::SSLClient& connection) const {
    std::string where = " (" + config_.server + ")";
    switch (error) {
      case httplib::Error::Connection:
        return "cannot connect" + where;
      case httplib::Error::ConnectionTimeout:
        return "connect timed out" + where;
      case httplib::Error::Read:
        return "read failed or timed out" + where;
      case httplib::Error::Write:
        return "write failed" + where;
      case httplib::Error::SSLConnection:
        return "TLS handshake failed" + where;
      case httplib::Error::SSLLoadingCerts:
        return "cannot load the system CA certificates";
      case httplib::Error::SSLServerVerification: {
        long result = connection.get_openssl_verify_result();
        return "server certificate verification failed" + where + ": " +
               (result == X509_V_OK ? "it does not name host " + endpoint_.host
                                    : X509_verify_cert_error_string(result));
      }
      default:
        return httplib::to_string(error) + where;
    }
  }

  const Config config_;
  const Endpoint endpoint_;
  X509Ptr client_cert_;                // null without a client certificate
  std::vector<X509Ptr> client_chain_;  // intermediates sent after client_cert_
  PkeyPtr client_key_;
  StorePtr ca_store_;  // null: system CAs (or no verification)
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<httplib::SSLClient>> idle_;
};

}  // namespace

std::unique_ptr<Client> make_http_client(const Config& config) {
  return std::make_unique<HttpClient>(config);
}

std::string url_encode(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace partop::kube
