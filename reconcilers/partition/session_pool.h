// A DatabaseConnector that keeps sessions between reconciles. A reconcile takes an idle session
// of its DSN and read lock timeout when there is one (no connection set-up, the server's catalog
// caches already warm) and gives it back when it is done with it, unless the session can no longer
// be trusted: it failed with a connection error or an autocommit statement failed (its session
// settings may not have been restored), or DatabaseSession::reusable() says no.
//
// At most `max_per_database` sessions of one DSN are open at once, idle ones included; connect()
// waits for one to be given back beyond that (each reconcile holds one session at a time, so the
// wait ends). Sessions idle for longer than `idle_timeout` are closed by a background sweep, so an
// idle operator holds no connection. At most `max_idle_total` sessions are idle over all DSNs:
// giving one back beyond that closes the one idle longest. Without that bound, an operator
// serving many databases on one server would hold databases × max_per_database connections
// (100 × 4 = 400, past PostgreSQL's default max_connections of 100) and starve the application.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "reconcilers/partition/db_session.h"

namespace partop {

// How long a session may stay idle in the pool before it is closed.
inline constexpr std::chrono::milliseconds kIdleConnectionTimeout{30000};
// How many idle sessions the pool keeps over all databases.
inline constexpr size_t kMaxIdleConnections = 16;

class SessionPool : public DatabaseConnector {
 public:
  struct Limits {
    size_t max_per_database = 4;
    std::chrono::milliseconds idle_timeout = kIdleConnectionTimeout;
    size_t max_idle_total = kMaxIdleConnections;
  };

  SessionPool(DatabaseConnector& connector, Limits limits);
  ~SessionPool() override;
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  // The returned session must not outlive the pool.
  std::unique_ptr<DatabaseSession> connect(const std::string& dsn,
                                           std::chrono::milliseconds read_lock_timeout) override;

  // Sessions open now (in use and idle), over all DSNs.
  size_t open_sessions() const;

 private:
  class Lease;
  using Key = std::pair<std::string, std::chrono::milliseconds::rep>;
  struct Idle {
    std::unique_ptr<DatabaseSession> session;
    std::chrono::steady_clock::time_point since;
  };

  void give_back(const Key& key, std::unique_ptr<DatabaseSession> session, bool reusable);
  // Closes idle sessions older than the idle timeout; called with mutex_ held, returns them so
  // that they are closed (a network round trip) after it is released.
  std::vector<std::unique_ptr<DatabaseSession>> take_expired();
  // Beyond max_idle_total idle sessions, takes out the one idle longest; called with mutex_ held
  // (the caller closes it after releasing the lock).
  std::unique_ptr<DatabaseSession> take_longest_idle_beyond_limit();
  void sweep_until_stopped();

  DatabaseConnector& connector_;
  const Limits limits_;
  mutable std::mutex mutex_;
  std::condition_variable given_back_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::map<Key, std::vector<Idle>> idle_;
  std::map<std::string, size_t> open_;  // per DSN, idle and in use
  std::thread sweeper_;
};

}  // namespace partop
