#include "reconcilers/partition/session_pool.h"

#include <algorithm>

namespace partop {

// A pooled session on loan to one reconcile: forwards every call, notes whether the session can
// still be trusted, and gives it back when destroyed.
class SessionPool::Lease : public DatabaseSession {
 public:
  Lease(SessionPool& pool, Key key, std::unique_ptr<DatabaseSession> session)
      : pool_(pool), key_(std::move(key)), session_(std::move(session)) {}
  ~Lease() override { pool_.give_back(key_, std::move(session_), trusted_); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // Runs `call`; a connection failure means the session is not given back for reuse.
  template <typename Call>
  auto watched(const Call& call) {
    try {
      return call();
    } catch (const DatabaseError& error) {
      if (error.is_connection_failure()) trusted_ = false;
      throw;
    }
  }

  SqlRows query(const std::string& sql, const std::vector<SqlValue>& params) override {
    return watched([&] { return session_->query(sql, params); });
  }
  std::vector<SqlRows> query_batch(const std::vector<SqlStatement>& statements) override {
    return watched([&] { return session_->query_batch(statements); });
  }
  long run_transaction(const std::vector<std::string>& statements, const StatementLimits& limits,
                       std::optional<size_t> counted,
                       const std::function<void()>& before_commit) override {
    return watched(
        [&] { return session_->run_transaction(statements, limits, counted, before_commit); });
  }
  void run_autocommit(const std::string& statement, const StatementLimits& limits) override {
    try {
      session_->run_autocommit(statement, limits);
    } catch (const DatabaseError&) {
      trusted_ = false;  // the session's lock_timeout may not have been restored
      throw;
    }
  }
  bool reusable() const override { return trusted_ && session_->reusable(); }

 private:
  SessionPool& pool_;
  const Key key_;
  std::unique_ptr<DatabaseSession> session_;
  bool trusted_ = true;
};

SessionPool::SessionPool(DatabaseConnector& connector, Limits limits)
    : connector_(connector), limits_(limits), sweeper_([this] { sweep_until_stopped(); }) {}

SessionPool::~SessionPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  sweeper_.join();
}

std::unique_ptr<DatabaseSession> SessionPool::connect(const std::string& dsn,
                                                      std::chrono::milliseconds read_lock_timeout) {
  const Key key{dsn, read_lock_timeout.count()};
  std::vector<std::unique_ptr<DatabaseSession>> to_close;
  std::unique_ptr<DatabaseSession> session;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      auto& idle = idle_[key];
      while (!idle.empty() && !session) {
        std::unique_ptr<DatabaseSession> candidate = std::move(idle.back().session);
        idle.pop_back();
        if (candidate->reusable()) {
          session = std::move(candidate);
        } else {
          --open_[dsn];
          to_close.push_back(std::move(candidate));
        }
      }
      if (session) break;
      if (open_[dsn] < limits_.max_per_database) {
        ++open_[dsn];
        break;
      }
      // At the limit: an idle session of this DSN under another lock timeout makes room.
      const auto other = std::find_if(idle_.begin(), idle_.end(), [&](const auto& entry) {
        return entry.first.first == dsn && !entry.second.empty();
      });
      if (other != idle_.end()) {
        to_close.push_back(std::move(other->second.back().session));
        other->second.pop_back();
        --open_[dsn];
        continue;
      }
      given_back_.wait(lock);
    }
  }
  to_close.clear();
  if (!session) {
    try {
      session = connector_.connect(dsn, read_lock_timeout);
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        --open_[dsn];
      }
      given_back_.notify_one();
      throw;
    }
  }
  return std::make_unique<Lease>(*this, key, std::move(session));
}

void SessionPool::give_back(const Key& key, std::unique_ptr<DatabaseSession> session,
                            bool reusable) {
  std::unique_ptr<DatabaseSession> to_close;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (reusable && !stopping_ && session->reusable()) {
      idle_[key].push_back({std::move(session), std::chrono::steady_clock::now()});
      to_close = take_longest_idle_beyond_limit();
    } else {
      --open_[key.first];
      to_close = std::move(session);
    }
  }
  // A closed session frees a slot, maybe of another DSN than this one: wake every waiter.
  given_back_.notify_all();
}

std::unique_ptr<DatabaseSession> SessionPool::take_longest_idle_beyond_limit() {
  size_t idle_total = 0;
  std::vector<Idle>* longest = nullptr;
  const Key* longest_key = nullptr;
  for (auto& [key, idle] : idle_) {
    idle_total += idle.size();
    // Each list is in the order sessions were given back: its front has been idle longest.
    if (!idle.empty() && (!longest || idle.front().since < longest->front().since)) {
      longest = &idle;
      longest_key = &key;
    }
  }
  if (idle_total <= limits_.max_idle_total || !longest) return nullptr;
  std::unique_ptr<DatabaseSession> session = std::move(longest->front().session);
  longest->erase(longest->begin());
  --open_[longest_key->first];
  return session;
}

size_t SessionPool::open_sessions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t total = 0;
  for (const auto& [dsn, count] : open_) total += count;
  return total;
}

std::vector<std::unique_ptr<DatabaseSession>> SessionPool::take_expired() {
  std::vector<std::unique_ptr<DatabaseSession>> expired;
  const auto oldest = std::chrono::steady_clock::now() - limits_.idle_timeout;
  for (auto& [key, idle] : idle_) {
    const auto first_fresh = std::stable_partition(
        idle.begin(), idle.end(), [&](const Idle& entry) { return entry.since < oldest; });
    for (auto it = idle.begin(); it != first_fresh; ++it) {
      expired.push_back(std::move(it->session));
      --open_[key.first];
    }
    idle.erase(idle.begin(), first_fresh);
  }
  return expired;
}

void SessionPool::sweep_until_stopped() {
  const auto period =
      std::max<std::chrono::milliseconds>(std::chrono::milliseconds(100), limits_.idle_timeout / 2);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    stop_.wait_for(lock, period, [&] { return stopping_; });
    std::vector<std::unique_ptr<DatabaseSession>> expired = take_expired();
    if (stopping_) {
      for (auto& [key, idle] : idle_) {
        for (auto& entry : idle) expired.push_back(std::move(entry.session));
      }
      idle_.clear();
    }
    lock.unlock();
    const bool freed = !expired.empty();
    expired.clear();  // closes the connections outside the lock
    if (freed) given_back_.notify_all();
    lock.lock();
  }
}

}  // namespace partop
