// An application for migration tests: one connection (as the role given in its DSN) inserting,
// updating, deleting, moving and reading rows of `table (id, created_at, amount)` through the
// table's name, and keeping its own ledger of what it committed. Every statement's result is
// checked against the ledger as it runs — an INSERT returns its id, an UPDATE or DELETE of a
// known id affects exactly one row (zero for an id it deleted), a read by id finds exactly one
// row with the amount last written — and any difference or error is a violation.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace partop::testing {

class LedgerWorkload {
 public:
  // Starts at once; `ledger` is the table's content (id -> amount) when it starts.
  LedgerWorkload(std::string dsn, std::string table, std::map<int64_t, int64_t> ledger,
                 unsigned seed = 42);
  ~LedgerWorkload();  // stops and joins
  LedgerWorkload(const LedgerWorkload&) = delete;
  LedgerWorkload& operator=(const LedgerWorkload&) = delete;

  void stop();
  // Waits until at least `count` more operations have committed since the call.
  void wait_for_operations(int64_t count) const;

  int64_t operations() const { return operations_; }
  std::chrono::milliseconds longest() const {
    return std::chrono::milliseconds(longest_ms_.load());
  }
  std::vector<std::string> violations() const;
  std::map<int64_t, int64_t> ledger() const;  // after stop()

 private:
  void run(unsigned seed);
  void violation(const std::string& what);

  std::string dsn_;
  std::string table_;
  std::map<int64_t, int64_t> ledger_;
  std::vector<int64_t> deleted_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> operations_{0};
  std::atomic<int64_t> longest_ms_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> violations_;
  std::thread thread_;
};

}  // namespace partop::testing
