// The contract between a controller and the code that knows one kind of resource, as in
// controller-runtime: reconcile(key) is level-based (it reads the current state of the object
// and the world and drives one towards the other, whatever events led here) and says what the
// controller should do with the key afterwards. A reconciler knows nothing of queues, workers
// or HTTP watches.
#pragma once

#include <chrono>
#include <string>

namespace partop::runtime {

struct Result {
  enum class Next {
    kDone,           // at the goal, or waiting for an event (a spec change, a Secret)
    kRequeueAfter,   // look again after `after` (resync interval, a bounded wait)
    kContinue,       // long-running work made progress in a bounded slice: more right away,
                     // behind the keys already queued
    kGuardDeferred,  // a guard held the work back (lock, lag, another runner): retry soon, on
                     // the controller's short backoff
    kError,          // did not reach the goal for another reason: retry on the long backoff
  };
  Next next = Next::kDone;
  std::chrono::milliseconds after{0};
  // Why the reconcile fell short of its goal for a reason other than a deliberate deferral (a
  // guard, a maintenance window, work continuing): a condition reason, a bounded set. It counts
  // in partop_reconcile_errors_total{reason} whatever comes next — a Stalled object waits for a
  // human yet is an error all the same. Empty: no failure (kError without one counts as
  // "InternalError").
  std::string failure;

  static Result done() { return {}; }
  static Result requeue_after(std::chrono::milliseconds delay) {
    return {Next::kRequeueAfter, delay, {}};
  }
  static Result continue_now() { return {Next::kContinue, {}, {}}; }
  static Result guard_deferred() { return {Next::kGuardDeferred, {}, {}}; }
  static Result error() { return {Next::kError, {}, {}}; }
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // `key` is "namespace/name" (or "name"). Exceptions are treated as Result::error().
  virtual Result reconcile(const std::string& key) = 0;
};

}  // namespace partop::runtime
