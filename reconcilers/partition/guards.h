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

struct ReplicationLag {
  std::string standby;
  double seconds = 0;
  int64_t bytes = 0;
};

// The standby that replays furthest behind, if any streams from this server.
std::optional<ReplicationLag> worst_replication_lag(DatabaseSession& session);
// The same from the rows of replication_lag_rows_sql(), read along with other statements.
std::optional<ReplicationLag> worst_replication_lag_in(const SqlRows& rows);
std::string replication_lag_rows_sql();

// WAL distance beyond which a standby counts as lagging even when its reported replay time is
// small (replay paused or stalled, primary otherwise idle): one WAL segment.
inline constexpr int64_t kMaxReplicationLagBytes = 16 * 1024 * 1024;

// Why a step must not start now.
struct StepHeldBack {
  std::string reason;  // "ReplicationLagHigh" or "LockTimeout"
  std::string message;
};

// A step's guards, read in one round trip: a standby replaying more than `max_lag` (or
// kMaxReplicationLagBytes) behind; else the first session that holds (or already waits for) a
// lock conflicting with one of `locks` — sessions whose transaction is younger than
// `ignore_younger_than` are not counted: a step that may queue behind them does so, bounded by
// its lock_timeout. nullopt when the step may go.
std::optional<StepHeldBack> step_held_back(
    DatabaseSession& session, const std::vector<LockRequest>& locks,
    std::chrono::milliseconds max_lag,
    std::chrono::milliseconds ignore_younger_than = std::chrono::milliseconds{0});

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
