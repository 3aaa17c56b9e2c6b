#include "tests/support/ledger_workload.h"

#include <random>

#include <pqxx/pqxx>

namespace partop::testing {

LedgerWorkload::LedgerWorkload(std::string dsn, std::string table,
                               std::map<int64_t, int64_t> ledger, unsigned seed)
    : dsn_(std::move(dsn)), table_(std::move(table)), ledger_(std::move(ledger)) {
  thread_ = std::thread([this, seed] { run(seed); });
}

LedgerWorkload::~LedgerWorkload() {
  stop();
}

void LedgerWorkload::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void LedgerWorkload::wait_for_operations(int64_t count) const {
  const int64_t target = operations_ + count;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (operations_ < target && std::chrono::steady_clock::now() < deadline && !stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::vector<std::string> LedgerWorkload::violations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return violations_;
}

std::map<int64_t, int64_t> LedgerWorkload::ledger() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ledger_;
}

void LedgerWorkload::violation(const std::string& what) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (violations_.size() < 20) violations_.push_back(what);
}

void LedgerWorkload::run(unsigned seed) {
  std::mt19937_64 random(seed);
  std::unique_ptr<pqxx::connection> connection;
  try {
    connection = std::make_unique<pqxx::connection>(dsn_);
  } catch (const std::exception& error) {
    violation(std::string("connect: ") + error.what());
    return;
  }
  auto any_id = [&]() -> int64_t {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ledger_.empty()) return -1;
    auto it = ledger_.lower_bound(static_cast<int64_t>(random() % (ledger_.rbegin()->first + 1)));
    return it == ledger_.end() ? ledger_.begin()->first : it->first;
  };
  while (!stop_) {
    const int dice = static_cast<int>(random() % 100);
    const auto started = std::chrono::steady_clock::now();
    try {
      pqxx::work tx(*connection);
      if (dice < 35) {
        const int64_t amount = static_cast<int64_t>(random() % 1000);
        const int days = static_cast<int>(random() % 500);
        const pqxx::result r = tx.exec_params(
            "INSERT INTO " + table_ +
                " (created_at, amount) VALUES (now() - make_interval(days => $1), $2) RETURNING id",
            days, amount);
        tx.commit();
        if (r.size() != 1) {
          violation("INSERT ... RETURNING returned " + std::to_string(r.size()) + " rows");
        } else {
          std::lock_guard<std::mutex> lock(mutex_);
          ledger_[r[0][0].as<int64_t>()] = amount;
        }
      } else if (dice < 60) {
        const int64_t id = any_id();
        const pqxx::result r =
            tx.exec_params("UPDATE " + table_ + " SET amount = amount + 1 WHERE id = $1", id);
        tx.commit();
        if (id >= 0 && r.affected_rows() != 1) {
          violation("UPDATE of id " + std::to_string(id) + " affected " +
                    std::to_string(r.affected_rows()) + " rows");
        } else if (id >= 0) {
          std::lock_guard<std::mutex> lock(mutex_);
          ++ledger_[id];
        }
      } else if (dice < 65) {  // moves the row to another partition
        const int64_t id = any_id();
        const pqxx::result r = tx.exec_params(
            "UPDATE " + table_ + " SET created_at = created_at - interval '40 days' WHERE id = $1",
            id);
        tx.commit();
        if (id >= 0 && r.affected_rows() != 1) {
          violation("moving UPDATE of id " + std::to_string(id) + " affected " +
                    std::to_string(r.affected_rows()) + " rows");
        }
      } else if (dice < 72) {
        const int64_t id = any_id();
        const pqxx::result r = tx.exec_params("DELETE FROM " + table_ + " WHERE id = $1", id);
        tx.commit();
        if (id >= 0 && r.affected_rows() != 1) {
          violation("DELETE of id " + std::to_string(id) + " affected " +
                    std::to_string(r.affected_rows()) + " rows");
        } else if (id >= 0) {
          std::lock_guard<std::mutex> lock(mutex_);
          ledger_.erase(id);
          deleted_.push_back(id);
        }
      } else if (dice < 76) {
        int64_t gone = -1;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (!deleted_.empty()) gone = deleted_[random() % deleted_.size()];
        }
        const pqxx::result r =
            tx.exec_params("UPDATE " + table_ + " SET amount = 0 WHERE id = $1", gone);
        tx.commit();
        if (r.affected_rows() != 0) {
          violation("UPDATE of deleted id " + std::to_string(gone) + " affected " +
                    std::to_string(r.affected_rows()) + " rows");
        }
      } else if (dice < 82) {  // SELECT ... FOR UPDATE, then an update in the same transaction
        const int64_t id = any_id();
        const pqxx::result locked =
            tx.exec_params("SELECT amount FROM " + table_ + " WHERE id = $1 FOR UPDATE", id);
        if (id >= 0 && locked.size() != 1) {
          violation("SELECT FOR UPDATE of id " + std::to_string(id) + " found " +
                    std::to_string(locked.size()) + " rows");
          continue;
        }
        if (id >= 0) {
          tx.exec_params("UPDATE " + table_ + " SET amount = $2 WHERE id = $1", id,
                         locked[0][0].as<int64_t>() + 10);
        }
        tx.commit();
        if (id >= 0) {
          std::lock_guard<std::mutex> lock(mutex_);
          ledger_[id] = locked[0][0].as<int64_t>() + 10;
        }
      } else {
        const int64_t id = any_id();
        const pqxx::result r =
            tx.exec_params("SELECT amount FROM " + table_ + " WHERE id = $1", id);
        tx.commit();
        int64_t expected = 0;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (auto it = ledger_.find(id); it != ledger_.end()) expected = it->second;
        }
        if (id >= 0 && (r.size() != 1 || r[0][0].as<int64_t>() != expected)) {
          violation("read of id " + std::to_string(id) + " found " + std::to_string(r.size()) +
                    " row(s), or not the amount last written");
        }
      }
      ++operations_;
    } catch (const std::exception& error) {
      violation(error.what());
      try {
        connection = std::make_unique<pqxx::connection>(dsn_);
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
    if (took > longest_ms_) longest_ms_ = took;
  }
}

}  // namespace partop::testing
