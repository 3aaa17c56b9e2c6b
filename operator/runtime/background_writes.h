// Writes to the API server that a reconcile does not wait for (Events, partition maps): one
// thread runs them in submission order. A write submitted under a non-empty key replaces that
// key's write while it still waits, so a burst of changes to one object costs one request.
// Every write handles its own failures (it logs them); nothing is returned to the submitter.
// Writes come in as fast as reconciles finish and go out one at a time, so a burst (a fleet's
// first reconciles) leaves a backlog that drains behind it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace partop::runtime {

class BackgroundWrites {
 public:
  BackgroundWrites();
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
  bool running_write_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace partop::runtime
