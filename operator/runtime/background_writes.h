// Writes to the API server that a reconcile does not wait for (Events, partition maps): a few
// writer threads take them oldest first. A write submitted under a non-empty key replaces that
// key's write while it still waits, so a burst of changes to one object costs one request, and
// one key's writes never run at once or out of order.
// Every write handles its own failures (it logs them); nothing is returned to the submitter.
// Writes come in as fast as reconciles finish, so a burst (a fleet's first reconciles) leaves a
// backlog that drains behind it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace partop::runtime {

class BackgroundWrites {
 public:
  explicit BackgroundWrites(size_t writers = 4);
  // Runs what was submitted before for up to kShutdownGrace, drops the rest (logged), then
  // stops: Events are best effort, and a partition map is written again by the next reconcile.
  ~BackgroundWrites();
  static constexpr std::chrono::seconds kShutdownGrace{2};
  BackgroundWrites(const BackgroundWrites&) = delete;
  BackgroundWrites& operator=(const BackgroundWrites&) = delete;

  void submit(std::string key, std::function<void()> write);
  // Returns once every write submitted before the call has run.
  void flush();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::pair<std::string, std::function<void()>>> pending_;
  std::set<std::string> in_flight_;  // keys being written
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> writers_;
};

}  // namespace partop::runtime
