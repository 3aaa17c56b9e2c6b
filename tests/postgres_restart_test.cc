// Reliability: PostgreSQL restarted while partop drains DEFAULT, and while it backfills. The
// interrupted transaction is rolled back by the server, apply reports DatabaseUnavailable (or
// finished first), and the next apply converges with every row in place.
#include <doctest/doctest.h>

#include <future>
#include <thread>

#include "tests/support/test_database.h"

namespace partop::testing {

TEST_CASE(
    "a PostgreSQL restart in the middle of a reconcile loses nothing and the next run converges") {
  TestDatabase db;
  db.exec(R"(
    CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
    CREATE TABLE events_default PARTITION OF events DEFAULT;
    INSERT INTO events SELECT i, now() - interval '20 days' + i * interval '4 seconds'
      FROM generate_series(1, 400000) i;
  )");
  const std::string checksum_sql =
      "SELECT count(*) || ':' || sum(hashtext(id::text || created_at::text)) FROM events";
  const std::string before = db.scalar(checksum_sql);
  const std::string policy = write_temp_file(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionPolicy\nmetadata: {name: events}\n"
      "spec: {table: events, interval: daily, premake: 2}\n");

  auto interrupted = std::async(std::launch::async, [&] {
    return run_command(PARTOP_BIN, {"apply", "-f", policy, "--dsn", db.dsn()});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const CommandResult restart = run_command(POSTGRES_SH, {"restart", PG_STATE_DIR});
  REQUIRE_MESSAGE(restart.exit_code == 0, restart.output);
  const CommandResult first = interrupted.get();
  MESSAGE("apply during the restart exited " << first.exit_code);
  if (first.exit_code != 0) CHECK(first.output.find("DatabaseUnavailable") != std::string::npos);

  CHECK(db.scalar(checksum_sql) == before);
  const CommandResult second = run_command(PARTOP_BIN, {"apply", "-f", policy, "--dsn", db.dsn()});
  CHECK_MESSAGE(second.exit_code == 0, second.output);
  CHECK(db.scalar(checksum_sql) == before);
  CHECK(db.count("SELECT count(*) FROM ONLY events_default") == 0);
  CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'events\\_p%' AND relkind = 'r' "
                 "AND NOT relispartition") == 0);
}

TEST_CASE("a PostgreSQL restart in the middle of a backfill leaves each partition old or new") {
  TestDatabase db;
  db.exec(R"(
    SET timezone = 'UTC';
    CREATE TABLE usage (id bigint NOT NULL, day timestamptz NOT NULL, amount bigint NOT NULL,
                        PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
  )");
  db.create_daily_partitions("usage", -10, 2);
  db.exec(R"(
    SET timezone = 'UTC';
    INSERT INTO usage SELECT i, current_date::timestamp AT TIME ZONE 'UTC'
        - ((i % 10) + 1) * interval '1 day' + (i % 86400) * interval '1 second', 1
      FROM generate_series(1, 400000) i;
    CREATE TABLE usage_v2 AS SELECT id, day, 2::bigint AS amount FROM usage;
  )");
  const std::string from = db.scalar("SELECT to_char(current_date - 9, 'YYYY-MM-DD')");
  const std::string to = db.scalar("SELECT to_char(current_date - 1, 'YYYY-MM-DD')");
  const std::string backfill = write_temp_file(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionBackfill\nmetadata: {name: fix}\n"
      "spec: {table: usage, source: usage_v2, slicesPerPartition: 8, replaced: drop,\n"
      "  range: {from: \"" +
      from + "\", to: \"" + to + "\"}}\n");
  // Each partition of the range holds either its 40,000 old rows (sum 40,000) or its 40,000 new
  // ones (sum 80,000): one line per partition that holds anything else.
  const std::string mixed_sql =
      "SELECT coalesce(string_agg(p, ', '), '') FROM (SELECT tableoid::regclass::text AS p"
      " FROM usage WHERE day >= '" +
      from + "' AND day < '" + to +
      "' GROUP BY 1"
      " HAVING count(*) <> 40000 OR sum(amount) NOT IN (40000, 80000)) m";

  auto interrupted = std::async(std::launch::async, [&] {
    return run_command(PARTOP_BIN, {"apply", "-f", backfill, "--dsn", db.dsn()});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const CommandResult restart = run_command(POSTGRES_SH, {"restart", PG_STATE_DIR});
  REQUIRE_MESSAGE(restart.exit_code == 0, restart.output);
  const CommandResult first = interrupted.get();
  MESSAGE("apply during the restart exited " << first.exit_code);
  if (first.exit_code != 0) CHECK(first.output.find("DatabaseUnavailable") != std::string::npos);
  CHECK(db.scalar(mixed_sql) == "");

  const CommandResult second =
      run_command(PARTOP_BIN, {"apply", "-f", backfill, "--dsn", db.dsn()});
  CHECK_MESSAGE(second.exit_code == 0, second.output);
  CHECK(db.scalar(mixed_sql) == "");
  CHECK(db.scalar("SELECT count(*) || ':' || sum(amount) FROM usage WHERE day >= '" + from +
                  "' AND day < '" + to + "'") == "320000:640000");
  CHECK(db.count("SELECT count(*) FROM partop_backfills WHERE state = 'swapped'") == 8);
  CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'usage\\_p%\\_shadow'") == 0);
}

}  // namespace partop::testing
