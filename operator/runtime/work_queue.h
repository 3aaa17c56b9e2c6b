// A deduplicating, delaying, rate-limited work queue in the manner of client-go's workqueue:
// - a key waiting in the queue is held once, however often it is added;
// - a key is handed to one worker at a time; adding it while it is processed marks it dirty, and
//   it is queued again when the worker calls done();
// - add_after() delays a key (RequeueAfter); add_rate_limited() delays it by a per-key
//   exponential backoff that forget() resets; the caller picks the backoff policy per add, so one
//   queue serves short retries (a guard deferred the work) and long ones (an error).
// Due times are read from the injected Clock's monotonic time; a blocked get() re-reads it at
// least once a second, so a fake clock advanced by a test is noticed without a real wait.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "reconcilers/partition/clock.h"

namespace partop::runtime {

struct BackoffPolicy {
  std::chrono::milliseconds base{5};
  std::chrono::milliseconds max{1000 * 1000};

  // The wait after `failures` earlier failures: base * 2^failures, capped at max.
  std::chrono::milliseconds delay(int failures) const;
};

class WorkQueue {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  explicit WorkQueue(const Clock& clock = system_clock()) : clock_(clock) {}

  void add(const std::string& key);
  void add_after(const std::string& key, Duration delay);
  // Adds after base * 2^failures (capped at max) and counts one more failure for the key.
  // Returns the delay chosen.
  std::chrono::milliseconds add_rate_limited(const std::string& key, const BackoffPolicy& backoff);
  // Forgets the key's failures: its next add_rate_limited() waits `base` again.
  void forget(const std::string& key);
  int failures(const std::string& key) const;

  // Blocks until a key is ready and returns it, marked as processing; nullopt once shut down.
  std::optional<std::string> get();
  // Ends processing of a key returned by get(); a key added meanwhile is queued again.
  void done(const std::string& key);
  // Wakes every get() with nullopt; later adds are ignored.
  void shut_down();

  size_t depth() const;  // keys ready to be handed out
  // When a delayed key becomes ready (monotonic time); nullopt when it is not delayed.
  std::optional<TimePoint> due(const std::string& key) const;
  uint64_t adds() const;     // adds that queued a key (duplicates excluded)
  uint64_t retries() const;  // add_rate_limited calls
  // Seconds the last handed-out key waited in the queue.
  double last_wait_seconds() const;

 private:
  void enqueue_locked(const std::string& key);
  void promote_due_locked(TimePoint now);

  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_;  // keys in queue_
  std::set<std::string> processing_;
  std::set<std::string> dirty_;               // added while processing
  std::map<std::string, TimePoint> delayed_;  // key -> earliest due time
  std::map<std::string, TimePoint> enqueued_at_;
  std::map<std::string, int> failures_;
  bool shut_down_ = false;
  uint64_t adds_ = 0;
  uint64_t retries_ = 0;
  double last_wait_seconds_ = 0;
};

}  // namespace partop::runtime
