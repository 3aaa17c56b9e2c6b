// The replication-lag breaker and standby detection, against a real streaming replica whose
// replay is paused.
#include <doctest/doctest.h>

#include <thread>

#include "reconcilers/partition/pg_session.h"
#include "reconcilers/partition/reconciler.h"
#include "tests/support/test_database.h"

namespace partop::testing {

TEST_CASE("replay paused on the standby: DDL waits with ReplicationLagHigh, resumed: Ready") {
  REQUIRE(replica_dsn().has_value());
  TestDatabase db;
  db.exec("CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)");
  const auto replica = open_pg_session(*replica_dsn());
  replica->query("SELECT pg_wal_replay_pause()");
  // Generate WAL the standby will not replay.
  db.exec(
      "CREATE TABLE filler AS SELECT i, repeat('x', 200) AS pad FROM generate_series(1, 150000) i");
  for (int i = 0; i < 50; ++i) {
    const auto behind = db.count(
        "SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)::bigint FROM "
        "pg_stat_replication");
    if (behind > 16 * 1024 * 1024) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  db.reset_ddl_log();
  const Policy policy =
      make_policy("  table: events\n  interval: daily\n  guards: {maxReplicationLag: 2s}\n");
  const Outcome blocked = apply_policy(db, policy);
  CHECK(blocked.ready_reason() == "ReplicationLagHigh");
  CHECK(blocked.retry_with_backoff);
  CHECK(db.ddl_count() == 0);

  replica->query("SELECT pg_wal_replay_resume()");
  Outcome resumed;
  for (int i = 0; i < 50; ++i) {
    resumed = apply_policy(db, policy);
    if (resumed.ready_reason() != "ReplicationLagHigh") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  CHECK_MESSAGE(resumed.ready(), resumed.ready_reason());
}

TEST_CASE("connected to a standby, partop reads and reports but runs no DDL") {
  REQUIRE(replica_dsn().has_value());
  TestDatabase db;
  db.exec("CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)");
  db.reset_ddl_log();
  const std::string dsn = replica_dsn()->substr(0, replica_dsn()->rfind('/') + 1) + db.name();
  for (int i = 0; i < 50; ++i) {  // wait for the database to reach the standby
    try {
      if (open_pg_session(dsn)->query("SELECT to_regclass('events')")[0][0]) break;
    } catch (const DatabaseError&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const auto session = open_pg_session(dsn);
  const SystemClock clock;
  const Outcome outcome = PartitionReconciler(clock).reconcile(
      *session, make_policy("  table: events\n  interval: daily\n"), ReconcileMode::kApply);
  CHECK(outcome.ready_reason() == "ReadOnlyStandby");
  CHECK(db.ddl_count() == 0);
}

}  // namespace partop::testing
