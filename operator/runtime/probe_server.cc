#include "operator/runtime/probe_server.h"

#include <httplib.h>

#include <algorithm>
#include <stdexcept>

namespace partop::runtime {

std::pair<std::string, int> parse_bind_address(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("bind address \"" + address + "\" needs host:port");
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(),
                   [](unsigned char c) { return std::isdigit(c); })) {
    throw std::runtime_error("bind address \"" + address + "\" has no valid port");
  }
  const int port = std::stoi(port_text);
  if (port > 65535) throw std::runtime_error("bind address \"" + address + "\" has no valid port");
  if (host.empty()) host = "0.0.0.0";
  return {host, port};
}

ProbeServer::ProbeServer(ProbeHandlers handlers, std::vector<std::string> bind_addresses)
    : handlers_(std::move(handlers)) {
  for (auto& address : bind_addresses) {
    if (address == "0" || address.empty()) continue;
    if (std::find(addresses_.begin(), addresses_.end(), address) == addresses_.end()) {
      addresses_.push_back(std::move(address));
    }
  }
}

ProbeServer::~ProbeServer() {
  stop();
}

void ProbeServer::start() {
  for (const auto& address : addresses_) {
    const auto [host, port] = parse_bind_address(address);
    auto server = std::make_unique<httplib::Server>();
    server->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      const bool ok = handlers_.healthy();
      res.status = ok ? 200 : 500;
      res.set_content(ok ? "ok" : "unhealthy", "text/plain");
    });
    server->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      const bool ok = handlers_.ready();
      res.status = ok ? 200 : 503;
      res.set_content(ok ? "ok" : "not ready: caches not synced", "text/plain");
    });
    server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(handlers_.metrics(), "text/plain; version=0.0.4");
    });
    if (!server->bind_to_port(host.c_str(), port)) {
      throw std::runtime_error("cannot listen on " + address);
    }
    httplib::Server* raw = server.get();
    threads_.emplace_back([raw] { raw->listen_after_bind(); });
    servers_.push_back(std::move(server));
  }
}

void ProbeServer::stop() {
  for (auto& server : servers_) server->stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  servers_.clear();
}

}  // namespace partop::runtime
