// A controller in the manner of controller-runtime: a work queue of object keys, a bounded pool
// of workers that hand each key to one Reconciler, per-key backoff, and watches that turn
// changes of objects into keys:
// - watch_for(source): the primary objects. Created and deleted objects, and objects whose
//   metadata.generation changed (a spec edit), are queued; status-only changes (ours) are not.
// - watch_owned(source, kind): objects whose controller ownerReference is of `kind` queue their
//   owner (same namespace).
// - watch_mapped(source, map): any other object queues the keys `map` returns (a Secret queues
//   the resources that name it).
// Between start() and stop() the controller is active; keys queued while inactive are dropped
// (start() queues every primary object anyway). Each controller has its own workers, so one
// kind's long-running work never takes the workers of another.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "operator/runtime/metrics.h"
#include "operator/runtime/reconciler.h"
#include "operator/runtime/source.h"
#include "operator/runtime/work_queue.h"
#include "reconcilers/partition/clock.h"

namespace partop::runtime {

struct ControllerOptions {
  std::string name;  // lower-case kind, e.g. "partitionpolicy": metrics label and log field
  int max_concurrent_reconciles = 4;
  // After Result::guard_deferred(): short, so maintenance resumes well within a second of a
  // blocker going away (a retry at most 500 ms after, plus one reconcile). A deferred retry
  // costs a catalog read and a pg_locks look-up, and queues behind nothing.
  BackoffPolicy guard_backoff{std::chrono::milliseconds(250), std::chrono::milliseconds(500)};
  // After Result::error() or an exception: long, so a broken object does not hammer anything.
  BackoffPolicy error_backoff{std::chrono::milliseconds(1000), std::chrono::milliseconds(300000)};
};

class Controller {
 public:
  using Mapper =
      std::function<std::vector<std::string>(const std::string& key, const nlohmann::json* object)>;

  Controller(ControllerOptions options, std::unique_ptr<Reconciler> reconciler, Metrics& metrics,
             const Clock& clock);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void watch_for(Source& source);
  void watch_owned(Source& source, const std::string& owner_kind);
  void watch_mapped(Source& source, Mapper map);

  // Starts the workers and queues every primary object.
  void start();
  // Stops handing out keys, lets running reconciles finish their current step, joins workers.
  void stop();
  bool active() const { return active_; }

  void enqueue(const std::string& key);
  // Publishes this controller's work-queue figures to the metrics.
  void sample_metrics();

 private:
  void on_primary(const std::string& key, const nlohmann::json* object);
  void work(WorkQueue& queue);
  void finish(WorkQueue& queue, const std::string& key, const Result& result, double seconds);

  const ControllerOptions options_;
  std::unique_ptr<Reconciler> reconciler_;
  Metrics& metrics_;
  const Clock& clock_;
  Source* primary_ = nullptr;
  mutable std::mutex mutex_;
  std::unique_ptr<WorkQueue> queue_;  // one per active period
  std::vector<std::thread> workers_;
  std::atomic<bool> active_{false};
  std::map<std::string, int64_t> seen_generations_;
  uint64_t seen_adds_ = 0;
  uint64_t seen_retries_ = 0;
};

}  // namespace partop::runtime
