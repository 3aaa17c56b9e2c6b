#include "reconcilers/partition/guards.h"

#include <nlohmann/json.hpp>

namespace partop {
namespace {

// Advisory-lock namespace: the first key of the two-key form, "part" in ASCII.
constexpr int kAdvisoryNamespace = 0x70617274;

}  // namespace

std::optional<std::string> find_conflicting_lock(DatabaseSession& session,
                                                 const std::vector<LockRequest>& locks,
                                                 std::chrono::milliseconds ignore_younger_than) {
  if (locks.empty()) return std::nullopt;
  nlohmann::json relations = nlohmann::json::array();
  for (const auto& lock : locks) relations.push_back({lock.relation.schema, lock.relation.name});
  const SqlRows rows = session.query(
      "SELECT n.nspname, c.relname, l.mode, l.granted, l.pid,"
      "  coalesce(extract(epoch FROM now() - a.xact_start)::bigint, 0),"
      "  coalesce(left(regexp_replace(a.query, '\\s+', ' ', 'g'), 80), ''),"
      "  coalesce(extract(epoch FROM now() - a.xact_start) * 1000, 0)::bigint"
      " FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
      " JOIN pg_namespace n ON n.oid = c.relnamespace"
      " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
      " WHERE l.locktype = 'relation' AND l.pid IS DISTINCT FROM pg_backend_pid()"
      "   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
      "   AND (n.nspname, c.relname) IN (SELECT r->>0, r->>1 FROM jsonb_array_elements($1::jsonb) "
      "r)"
      " ORDER BY l.granted DESC, 6 DESC",
      {relations.dump()});
  for (const auto& row : rows) {
    const auto held = lock_mode_from_pg(row[2].value_or(""));
    if (!held) continue;
    if (std::stoll(row[7].value_or("0")) < ignore_younger_than.count()) continue;
    for (const auto& lock : locks) {
      if (lock.relation.schema != row[0] || lock.relation.name != row[1]) continue;
      if (!lock_modes_conflict(lock.mode, *held)) continue;
      const bool granted = row[3] == "t";
      return "pid " + row[4].value_or("?") + (granted ? " holds " : " waits for ") +
             std::string(lock_mode_name(*held)) + " on " + lock.relation.display() +
             " (transaction open " + row[5].value_or("0") + "s: " + row[6].value_or("") +
             "); partop needs " + std::string(lock_mode_name(lock.mode)) +
             " and backs off instead of queueing behind it";
    }
  }
  return std::nullopt;
}

std::optional<ReplicationLag> worst_replication_lag(DatabaseSession& session) {
  const SqlRows rows = session.query(
      "SELECT coalesce(application_name, client_addr::text, pid::text),"
      "  coalesce(extract(epoch FROM replay_lag), 0)::float8,"
      "  coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint"
      " FROM pg_stat_replication");
  std::optional<ReplicationLag> worst;
  for (const auto& row : rows) {
    ReplicationLag lag{row[0].value_or("standby"), std::stod(row[1].value_or("0")),
                       std::stoll(row[2].value_or("0"))};
    if (!worst || lag.seconds > worst->seconds ||
        (lag.seconds == worst->seconds && lag.bytes > worst->bytes)) {
      worst = lag;
    }
  }
  return worst;
}

std::optional<std::string> replication_lag_exceeded(DatabaseSession& session,
                                                    std::chrono::milliseconds max_lag) {
  const auto lag = worst_replication_lag(session);
  if (!lag) return std::nullopt;
  const double max_seconds = static_cast<double>(max_lag.count()) / 1000.0;
  if (lag->seconds <= max_seconds && lag->bytes <= kMaxReplicationLagBytes) return std::nullopt;
  return "standby " + lag->standby + " replays " + std::to_string(lag->seconds).substr(0, 6) +
         "s and " + std::to_string(lag->bytes) + " bytes of WAL behind (limit " +
         std::to_string(max_seconds).substr(0, 6) + "s or " +
         std::to_string(kMaxReplicationLagBytes) + " bytes); DDL waits";
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
