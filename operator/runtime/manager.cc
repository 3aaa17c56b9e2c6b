#include "operator/runtime/manager.h"

#include <stdexcept>
#include <thread>

#include "operator/runtime/log.h"
#include "operator/runtime/probe_server.h"

namespace partop::runtime {

Manager::Manager(ManagerOptions options, const Clock& clock, kube::Client* client)
    : options_(std::move(options)), clock_(clock), client_(client) {
  if (options_.leader_election && client_ == nullptr)
    throw std::logic_error("leader election needs an API client");
}

Manager::~Manager() {
  deactivate();
}

Source& Manager::source(const Resource& resource) {
  auto it = sources_.find(resource.id());
  if (it != sources_.end()) return *it->second;
  if (client_ == nullptr)
    throw std::logic_error("no source for " + resource.id() + " and no API client");
  auto source = std::make_unique<InformerSource>(*client_, resource, options_.namespaces);
  return *sources_.emplace(resource.id(), std::move(source)).first->second;
}

void Manager::add_source(const Resource& resource, std::unique_ptr<Source> source) {
  sources_[resource.id()] = std::move(source);
}

Controller& Manager::add_controller(ControllerOptions options,
                                    std::unique_ptr<Reconciler> reconciler) {
  controllers_.push_back(
      std::make_unique<Controller>(std::move(options), std::move(reconciler), metrics_, clock_));
  return *controllers_.back();
}

Controller& Manager::add_controller_for(Source& primary, std::string name, int workers,
                                        std::unique_ptr<Reconciler> reconciler) {
  ControllerOptions options;
  options.name = std::move(name);
  options.max_concurrent_reconciles = workers;
  Controller& controller = add_controller(std::move(options), std::move(reconciler));
  controller.watch_for(primary);
  return controller;
}

kube::Client& Manager::client() {
  if (client_ == nullptr) throw std::logic_error("this manager has no API client");
  return *client_;
}

StopReason Manager::stop_reason() const {
  return [this]() -> std::string {
    if (stopping_.load() || (stop_ != nullptr && stop_->load())) return "shutting down";
    if (!active_.load()) return "leadership lost";
    return "";
  };
}

bool Manager::synced() const {
  for (const auto& [id, source] : sources_) {
    if (!source->synced()) return false;
  }
  return true;
}

void Manager::activate() {
  if (active_.exchange(true)) return;
  stopping_ = false;
  for (auto& controller : controllers_) controller->start();
  metrics_.set_leader(true);
}

void Manager::deactivate() {
  if (!active_.exchange(false)) return;
  for (auto& controller : controllers_) controller->stop();
  metrics_.set_leader(false);
}

std::string Manager::render_metrics() {
  for (auto& controller : controllers_) controller->sample_metrics();
  return metrics_.render();
}

int Manager::run(const std::atomic<bool>& stop) {
  stop_ = &stop;
  ProbeServer probes(
      {[] { return true; }, [this] { return synced(); }, [this] { return render_metrics(); }},
      {options_.metrics_bind_address, options_.health_probe_bind_address});
  try {
    probes.start();
  } catch (const std::exception& error) {
    log(LogLevel::kError, "cannot start probe server", {{"error", error.what()}});
    stop_ = nullptr;
    return 2;
  }
  std::atomic<bool> sources_stop{false};
  std::vector<std::thread> source_threads;
  for (auto& [id, source] : sources_)
    source_threads.emplace_back([&sources_stop, s = source.get()] { s->run(sources_stop); });

  while (!stop && !synced()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (options_.leader_election) {
    LeaderElector elector(*client_, *options_.leader_election, clock_);
    elector.run(
        stop, [this] { activate(); }, [this] { deactivate(); });
  } else {
    if (!stop) activate();
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stopping_ = true;
  deactivate();

  sources_stop = true;
  for (auto& thread : source_threads) thread.join();
  probes.stop();
  stop_ = nullptr;
  return 0;
}

}  // namespace partop::runtime
