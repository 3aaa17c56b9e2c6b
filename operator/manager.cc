#include "operator/manager.h"

#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "operator/controller/partition_policy_controller.h"
#include "operator/kube/kube_client.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/leader_election.h"
#include "operator/runtime/log.h"
#include "operator/runtime/metrics.h"
#include "operator/runtime/probe_server.h"
#include "operator/runtime/work_queue.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/pg_session.h"

namespace partop {
namespace {

using nlohmann::json;
using runtime::log;
using runtime::LogLevel;

// Guard outcomes back off from 1 s doubling to 5 min (controller-runtime starts at 5 ms, which
// would hammer a database whose locks are busy).
constexpr runtime::BackoffPolicy kBackoff{std::chrono::milliseconds(1000),
                                          std::chrono::milliseconds(300000)};

std::string default_identity() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "_" + std::to_string(::getpid());
}

// Reconciling is active while this process may act: always without leader election, only while
// leading with it. A work queue and its workers live for one active period.
class Reconciling {
 public:
  Reconciling(controller::PartitionPolicyController& controller, runtime::Metrics& metrics,
              int workers)
      : controller_(controller), metrics_(metrics), worker_count_(std::max(1, workers)) {}

  ~Reconciling() { stop(); }

  void start(const std::vector<std::string>& keys) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_) return;
    stopping_ = false;
    queue_ = std::make_unique<runtime::WorkQueue>(kBackoff);
    for (const auto& key : keys) queue_->add(key);
    for (int i = 0; i < worker_count_; ++i)
      workers_.emplace_back([this, queue = queue_.get()] { work(*queue); });
  }

  // Lets running reconciles finish their current step, then joins the workers.
  void stop() {
    std::vector<std::thread> workers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!queue_) return;
      stopping_ = true;
      queue_->shut_down();
      workers.swap(workers_);
    }
    for (auto& worker : workers) worker.join();
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.reset();
  }

  void enqueue(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_) queue_->add(key);
  }

  bool stopping() const { return stopping_; }

  std::string render_metrics() {
    std::lock_guard<std::mutex> lock(mutex_);
    return metrics_.render(queue_.get());
  }

 private:
  void work(runtime::WorkQueue& queue) {
    while (auto key = queue.get()) {
      metrics_.key_dequeued(queue.last_wait_seconds());
      const auto started = std::chrono::steady_clock::now();
      controller::ReconcileResult result;
      bool failed = false;
      try {
        result = controller_.reconcile(*key);
      } catch (const std::exception& error) {
        // A bug or an unexpected answer: log it and retry this key only.
        log(LogLevel::kError, "reconcile failed", {{"key", *key}, {"error", error.what()}});
        result.next = controller::ReconcileResult::Next::kBackoff;
        failed = true;
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      switch (result.next) {
        case controller::ReconcileResult::Next::kForget:
          queue.forget(*key);
          metrics_.reconcile_finished("success", seconds, false);
          break;
        case controller::ReconcileResult::Next::kRequeueAfter:
          queue.forget(*key);
          queue.add_after(*key, result.after);
          metrics_.reconcile_finished("requeue_after", seconds, false);
          break;
        case controller::ReconcileResult::Next::kBackoff:
          queue.add_rate_limited(*key);
          metrics_.reconcile_finished(failed ? "error" : "requeue", seconds, failed);
          break;
      }
      queue.done(*key);
    }
  }

  controller::PartitionPolicyController& controller_;
  runtime::Metrics& metrics_;
  const int worker_count_;
  std::mutex mutex_;
  std::unique_ptr<runtime::WorkQueue> queue_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stopping_{false};
};

std::vector<std::string> collection_paths(const std::string& all_path_prefix,
                                          const std::string& resource,
                                          const std::vector<std::string>& namespaces) {
  if (namespaces.empty()) return {all_path_prefix + "/" + resource};
  std::vector<std::string> paths;
  for (const auto& ns : namespaces)
    paths.push_back(all_path_prefix + "/namespaces/" + ns + "/" + resource);
  return paths;
}

}  // namespace

int run_operator(const OperatorOptions& options, const std::atomic<bool>& stop) {
  kube::Config config;
  try {
    config = options.kubeconfig.empty() ? kube::in_cluster_config()
                                        : kube::load_kubeconfig(options.kubeconfig);
  } catch (const std::exception& error) {
    log(LogLevel::kError, "cannot load Kubernetes configuration", {{"error", error.what()}});
    return 2;
  }
  const auto client = kube::make_http_client(config);
  const std::string identity = default_identity();
  runtime::Metrics metrics;
  runtime::EventRecorder events(*client, "partop", identity);
  SystemClock clock;
  PgConnector connector;

  // Informers: one per watched namespace (or one cluster-wide), for policies and for Secrets.
  std::unique_ptr<Reconciling> reconciling;
  std::map<std::string, int64_t> seen_generations;
  std::mutex seen_mutex;
  std::vector<std::unique_ptr<runtime::Informer>> policy_informers;
  std::vector<std::unique_ptr<runtime::Informer>> secret_informers;
  std::vector<const runtime::ObjectStore*> policy_stores;
  std::vector<const runtime::ObjectStore*> secret_stores;
  std::unique_ptr<controller::PartitionPolicyController> controller;

  auto on_policy = [&](const std::string& key, const json* object) {
    if (!reconciling) return;
    if (object == nullptr) {
      {
        std::lock_guard<std::mutex> lock(seen_mutex);
        seen_generations.erase(key);
      }
      // Clears its metrics; a policy in Conflict with it retries on its own every 30 s.
      reconciling->enqueue(key);
      return;
    }
    // Status writes (ours) do not change metadata.generation: only spec changes are work.
    const int64_t generation = (*object)["metadata"].value("generation", int64_t{0});
    {
      std::lock_guard<std::mutex> lock(seen_mutex);
      auto [it, inserted] = seen_generations.emplace(key, generation);
      if (!inserted && it->second == generation) return;
      it->second = generation;
    }
    reconciling->enqueue(key);
  };
  auto on_secret = [&](const std::string& key, const json*) {
    if (!reconciling || !controller) return;
    for (const auto& policy : controller->policies_using_secret(key)) reconciling->enqueue(policy);
  };

  for (const auto& path :
       collection_paths("/apis/partop.dev/v1alpha1", "partitionpolicies", options.namespaces)) {
    policy_informers.push_back(std::make_unique<runtime::Informer>(*client, path, on_policy));
    policy_stores.push_back(policy_informers.back().get());
  }
  for (const auto& path : collection_paths("/api/v1", "secrets", options.namespaces)) {
    secret_informers.push_back(std::make_unique<runtime::Informer>(*client, path, on_secret));
    secret_stores.push_back(secret_informers.back().get());
  }
  runtime::CompositeStore policies(policy_stores);
  runtime::CompositeStore secrets(secret_stores);

  const StopRequested stop_requested = [&] {
    return stop.load() || (reconciling && reconciling->stopping());
  };
  controller = std::make_unique<controller::PartitionPolicyController>(
      *client, policies, secrets, connector, clock, events, metrics, stop_requested);
  reconciling =
      std::make_unique<Reconciling>(*controller, metrics, options.max_concurrent_reconciles);

  auto synced = [&] {
    for (const auto& informer : policy_informers) {
      if (!informer->synced()) return false;
    }
    for (const auto& informer : secret_informers) {
      if (!informer->synced()) return false;
    }
    return true;
  };
  runtime::ProbeServer probes(
      {[] { return true; }, synced, [&] { return reconciling->render_metrics(); }},
      {options.metrics_bind_address, options.health_probe_bind_address});
  try {
    probes.start();
  } catch (const std::exception& error) {
    log(LogLevel::kError, "cannot start probe server", {{"error", error.what()}});
    return 2;
  }

  std::atomic<bool> informers_stop{false};
  std::vector<std::thread> informer_threads;
  for (auto& informer : policy_informers)
    informer_threads.emplace_back([&, i = informer.get()] { i->run(informers_stop); });
  for (auto& informer : secret_informers)
    informer_threads.emplace_back([&, i = informer.get()] { i->run(informers_stop); });
  log(LogLevel::kInfo, "operator started",
      {{"identity", identity},
       {"namespaces", options.namespaces},
       {"leaderElect", options.leader_elect},
       {"workers", options.max_concurrent_reconciles}});

  while (!stop && !synced()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto start_reconciling = [&] {
    std::vector<std::string> keys;
    for (const json& object : policies.list()) keys.push_back(runtime::object_key(object));
    reconciling->start(keys);
    metrics.set_leader(true);
  };
  auto stop_reconciling = [&] {
    reconciling->stop();
    metrics.set_leader(false);
  };

  if (options.leader_elect) {
    runtime::LeaderElectionConfig election;
    election.lease_namespace = options.leader_election_namespace.empty()
                                   ? config.namespace_name
                                   : options.leader_election_namespace;
    election.lease_name = options.leader_election_id;
    election.identity = identity;
    runtime::LeaderElector elector(*client, election);
    elector.run(stop, start_reconciling, stop_reconciling);
  } else {
    if (!stop) start_reconciling();
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop_reconciling();
  }

  informers_stop = true;
  for (auto& thread : informer_threads) thread.join();
  probes.stop();
  log(LogLevel::kInfo, "operator stopped", {{"identity", identity}});
  return 0;
}

}  // namespace partop
