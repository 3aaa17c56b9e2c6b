// Background load for integration tests: a client that runs one statement over and over on its
// own connection and records the longest latency, like an application writer or reader.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

namespace partop::testing {

class StatementLoop {
 public:
  // Starts running `sql` in a loop (autocommit) against `dsn`, with `pause` between runs.
  StatementLoop(std::string dsn, std::string sql,
                std::chrono::milliseconds pause = std::chrono::milliseconds(5));
  ~StatementLoop();  // stops and joins
  StatementLoop(const StatementLoop&) = delete;
  StatementLoop& operator=(const StatementLoop&) = delete;

  void stop();
  int64_t succeeded() const { return succeeded_; }
  int64_t failed() const { return failed_; }
  std::string last_error() const;
  std::chrono::milliseconds longest() const {
    return std::chrono::milliseconds(longest_ms_.load());
  }

 private:
  void run();

  std::string dsn_;
  std::string sql_;
  std::chrono::milliseconds pause_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> succeeded_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int64_t> longest_ms_{0};
  mutable std::mutex error_mutex_;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace partop::testing
