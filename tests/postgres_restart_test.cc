// Reliability: PostgreSQL restarted while partop drains DEFAULT. The interrupted transaction is
// rolled back by the server, apply reports DatabaseUnavailable (or finished first), and the next
// apply converges with every row in place.
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

}  // namespace partop::testing
