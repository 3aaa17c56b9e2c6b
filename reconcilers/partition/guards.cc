#include "reconcilers/partition/guards.h"

#include <nlohmann/json.hpp>

namespace partop {
namespace {

// Advisory-lock namespace: the first key of the two-key form, "part" in ASCII.
constexpr int kAdvisoryNamespace = 0x70617274;

}  // namespace

namespace {

// Sessions' relation locks on the relations of $1 (a JSON array of [schema, name]), held ones
// first, the oldest transaction first.
constexpr const char* kLockRowsSql =
    "SELECT 'lock', n.nspname, c.relname, l.mode, l.granted::text, l.pid::text,"
    "  coalesce(extract(epoch FROM now() - a.xact_start)::bigint, 0)::text,"
    "  coalesce(left(regexp_replace(a.query, '\\s+', ' ', 'g'), 80), ''),"
    "  coalesce(extract(epoch FROM now() - a.xact_start) * 1000, 0)::bigint::text"
    " FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'relation' AND l.pid IS DISTINCT FROM pg_backend_pid()"
    "   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    "   AND (n.nspname, c.relname) IN (SELECT r->>0, r->>1 FROM jsonb_array_elements($1::jsonb) r)";

// Each standby's name, replay lag in seconds and WAL distance in bytes; its column names serve
// the union with kLockRowsSql.
constexpr const char* kLagRowsSql =
    "SELECT 'lag' AS kind, coalesce(application_name, client_addr::text, pid::text),"
    "  coalesce(extract(epoch FROM replay_lag), 0)::float8::text,"
    "  coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint::text,"
    "  NULL AS granted, NULL, NULL, NULL, NULL AS age_ms"
    " FROM pg_stat_replication";

}  // namespace

std::optional<ReplicationLag> worst_replication_lag_in(const SqlRows& rows) {
  std::optional<ReplicationLag> worst;
  for (const auto& row : rows) {
    if (row[0] != "lag") continue;
    ReplicationLag lag{row[1].value_or("standby"), std::stod(row[2].value_or("0")),
                       std::stoll(row[3].value_or("0"))};
    if (!worst || lag.seconds > worst->seconds ||
        (lag.seconds == worst->seconds && lag.bytes > worst->bytes)) {
      worst = lag;
    }
  }
  return worst;
}

std::string replication_lag_rows_sql() {
  return kLagRowsSql;
}

namespace {

std::optional<std::string> lag_exceeded(const std::optional<ReplicationLag>& lag,
                                        std::chrono::milliseconds max_lag) {
  if (!lag) return std::nullopt;
  const double max_seconds = static_cast<double>(max_lag.count()) / 1000.0;
  if (lag->seconds <= max_seconds && lag->bytes <= kMaxReplicationLagBytes) return std::nullopt;
  return "standby " + lag->standby + " replays " + std::to_string(lag->seconds).substr(0, 6) +
         "s and " + std::to_string(lag->bytes) + " bytes of WAL behind (limit " +
         std::to_string(max_seconds).substr(0, 6) + "s or " +
         std::to_string(kMaxReplicationLagBytes) + " bytes); DDL waits";
}

std::optional<std::string> conflicting_lock_in(const SqlRows& rows,
                                               const std::vector<LockRequest>& locks,
                                               std::chrono::milliseconds ignore_younger_than) {
  for (const auto& row : rows) {
    if (row[0] != "lock") continue;
    const auto held = lock_mode_from_pg(row[3].value_or(""));
    if (!held) continue;
    if (std::stoll(row[8].value_or("0")) < ignore_younger_than.count()) continue;
    for (const auto& lock : locks) {
      if (lock.relation.schema != row[1] || lock.relation.name != row[2]) continue;
      if (!lock_modes_conflict(lock.mode, *held)) continue;
      const bool granted = row[4] == "true";
      return "pid " + row[5].value_or("?") + (granted ? " holds " : " waits for ") +
             std::string(lock_mode_name(*held)) + " on " + lock.relation.display() +
             " (transaction open " + row[6].value_or("0") + "s: " + row[7].value_or("") +
             "); partop needs " + std::string(lock_mode_name(lock.mode)) +
             " and backs off instead of queueing behind it";
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ReplicationLag> worst_replication_lag(DatabaseSession& session) {
  return worst_replication_lag_in(session.query(kLagRowsSql));
}

std::optional<StepHeldBack> step_held_back(DatabaseSession& session,
                                           const std::vector<LockRequest>& locks,
                                           std::chrono::milliseconds max_lag,
                                           std::chrono::milliseconds ignore_younger_than) {
  SqlRows rows;
  if (locks.empty()) {
    rows = session.query(kLagRowsSql);
  } else {
    nlohmann::json relations = nlohmann::json::array();
    for (const auto& lock : locks) relations.push_back({lock.relation.schema, lock.relation.name});
    // Held locks first, then the oldest transaction: the holder worth naming comes first.
    rows =
        session.query("SELECT * FROM (" + std::string(kLagRowsSql) + " UNION ALL " + kLockRowsSql +
                          ") g ORDER BY kind DESC, granted DESC, age_ms::bigint DESC",
                      {relations.dump()});
  }
  if (auto lag = lag_exceeded(worst_replication_lag_in(rows), max_lag)) {
    return StepHeldBack{"ReplicationLagHigh", *lag};
  }
  if (auto holder = conflicting_lock_in(rows, locks, ignore_younger_than)) {
    return StepHeldBack{"LockTimeout", *holder};
  }
  return std::nullopt;
}

TableLock::TableLock(DatabaseSession& session, const std::string& table_key)
    : session_(session), table_key_(table_key) {
  try {
    // A standby cannot take advisory locks (and runs no DDL): it is reported, not locked. The
    // wait is bounded by the session's lock_timeout.
    const SqlRows rows = session_.query(
        "SELECT CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE"
        " (SELECT 'locked' FROM pg_advisory_lock($1::int, hashtext($2))) END",
        {std::to_string(kAdvisoryNamespace), table_key_});
    state_ = rows.at(0).at(0) == "standby" ? State::kStandby : State::kAcquired;
  } catch (const DatabaseError& error) {
    if (!error.is_lock_timeout()) throw;
    state_ = State::kBusy;
  }
}

TableLock::~TableLock() {
  if (state_ != State::kAcquired) return;
  try {
    session_.query("SELECT pg_advisory_unlock($1::int, hashtext($2))",
                   {std::to_string(kAdvisoryNamespace), table_key_});
  } catch (const DatabaseError&) {
    // The session is gone; the server released the lock with it.
  }
}

}  // namespace partop
