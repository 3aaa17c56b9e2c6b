// Serves /healthz, /readyz and /metrics over plain HTTP (cpp-httplib), on the metrics and the
// health-probe bind addresses (one listener when they are equal; "0" disables a listener).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace partop::runtime {

struct ProbeHandlers {
  std::function<bool()> healthy;
  std::function<bool()> ready;
  std::function<std::string()> metrics;
};

class ProbeServer {
 public:
  ProbeServer(ProbeHandlers handlers, std::vector<std::string> bind_addresses);
  ~ProbeServer();
  ProbeServer(const ProbeServer&) = delete;
  ProbeServer& operator=(const ProbeServer&) = delete;

  // Binds every address; throws std::runtime_error naming an address that cannot be bound.
  void start();
  void stop();

 private:
  ProbeHandlers handlers_;
  std::vector<std::string> addresses_;
  std::vector<std::unique_ptr<httplib::Server>> servers_;
  std::vector<std::thread> threads_;
};

// Splits "host:port" (":8080" means every interface); throws on a malformed address.
std::pair<std::string, int> parse_bind_address(const std::string& address);

}  // namespace partop::runtime
