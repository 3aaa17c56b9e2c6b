#include "tests/support/load.h"

#include "reconcilers/partition/pg_session.h"

namespace partop::testing {

StatementLoop::StatementLoop(std::string dsn, std::string sql, std::chrono::milliseconds pause)
    : dsn_(std::move(dsn)), sql_(std::move(sql)), pause_(pause), thread_([this] { run(); }) {}

StatementLoop::~StatementLoop() {
  stop();
}

void StatementLoop::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string StatementLoop::last_error() const {
  std::lock_guard<std::mutex> lock(error_mutex_);
  return last_error_;
}

void StatementLoop::run() {
  std::unique_ptr<DatabaseSession> session;
  while (!stop_) {
    const auto started = std::chrono::steady_clock::now();
    try {
      if (!session) session = open_pg_session(dsn_);
      session->query(sql_);
      ++succeeded_;
    } catch (const std::exception& error) {
      ++failed_;
      std::lock_guard<std::mutex> lock(error_mutex_);
      last_error_ = error.what();
      session.reset();
    }
    const int64_t elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
    int64_t longest = longest_ms_.load();
    while (elapsed > longest && !longest_ms_.compare_exchange_weak(longest, elapsed)) {
    }
    std::this_thread::sleep_for(pause_);
  }
}

}  // namespace partop::testing
