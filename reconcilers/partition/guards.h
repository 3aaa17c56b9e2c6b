// Guards checked before and around DDL, so that partop backs off instead of hurting the
// application: other sessions' locks, standby replay lag, and mutual exclusion between partop
// processes on one table.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/partition/action.h"
#include "reconcilers/partition/db_session.h"

namespace partop {

// Returns a description of the first session that holds (or already waits for) a lock that
// conflicts with one of `locks`; nullopt when the action can take its locks without queueing.
// Sessions whose transaction is younger than `ignore_younger_than` are not counted: a step
// that may queue behind them does so, bounded by its lock_timeout.
std::optional<std::string> find_conflicting_lock(
    DatabaseSession& session, const std::vector<LockRequest>& locks,
    std::chrono::milliseconds ignore_younger_than = std::chrono::milliseconds{0});

struct ReplicationLag {
  std::string standby;
  double seconds = 0;
  int64_t bytes = 0;
};

// The standby that replays furthest behind, if any streams from this server.
std::optional<ReplicationLag> worst_replication_lag(DatabaseSession& session);

// WAL distance beyond which a standby counts as lagging even when its reported replay time is
// small (replay paused or stalled, primary otherwise idle): one WAL segment.
inline constexpr int64_t kMaxReplicationLagBytes = 16 * 1024 * 1024;

// A description of the lag when it exceeds `max_lag` (or kMaxReplicationLagBytes).
std::optional<std::string> replication_lag_exceeded(DatabaseSession& session,
                                                    std::chrono::milliseconds max_lag);

// A session-level advisory lock on one parent table, held for the life of the object so that
// two partop processes never plan from the same catalog nor run DDL on the same table at once.
class TableLock {
 public:
  enum class State {
    kAcquired,
    kBusy,     // another runner held it for longer than the session's lock_timeout
    kStandby,  // the server is in recovery: no lock is taken (and no DDL can run)
  };
  // Waits up to the session's lock_timeout (the policy's lockTimeout).
  TableLock(DatabaseSession& session, const std::string& table_key);
  ~TableLock();
  TableLock(const TableLock&) = delete;
  TableLock& operator=(const TableLock&) = delete;
  State state() const { return state_; }

 private:
  DatabaseSession& session_;
  std::string table_key_;
  State state_ = State::kBusy;
};

}  // namespace partop
