// Retention against a real PostgreSQL: partitions expire by their catalog bounds, never by name.
#include <doctest/doctest.h>

#include "tests/support/test_database.h"

namespace partop::testing {

TEST_CASE("retention drops by real bounds, a partition whose name lies is judged by its range") {
  TestDatabase db;
  db.exec(R"(
    CREATE TABLE events (created_at timestamptz NOT NULL, v int) PARTITION BY RANGE (created_at);
    -- Named like last week, but holds a range two years old: expired.
    CREATE TABLE events_p_recent PARTITION OF events
      FOR VALUES FROM (now() - interval '730 days') TO (now() - interval '700 days');
    -- Named like an ancient partition, but its range lies in the kept window: kept.
    CREATE TABLE events_p20000101 PARTITION OF events
      FOR VALUES FROM (date_trunc('day', now(), 'UTC') - interval '25 days')
                   TO (date_trunc('day', now(), 'UTC') - interval '24 days');
    INSERT INTO events VALUES (now() - interval '710 days', 1), (now() - interval '25 days', 2);
  )");
  const Outcome outcome = apply_policy(
      db, make_policy(
              "  table: events\n  interval: daily\n  premake: 1\n  retention: {keep: 30 days}\n"));
  REQUIRE_MESSAGE(outcome.ready(), outcome.condition("Ready")->message);
  CHECK(db.scalar("SELECT to_regclass('events_p_recent')").empty());
  CHECK(db.scalar("SELECT to_regclass('events_p20000101')") == "events_p20000101");
  CHECK(db.count("SELECT count(*) FROM events WHERE v = 2") == 1);
  CHECK(db.count("SELECT count(*) FROM partop_test_ddl_log WHERE tag = 'DROP TABLE'") == 1);
}

TEST_CASE("retention with action detach keeps the table, outside the tree") {
  TestDatabase db;
  db.exec(R"(
    CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
    CREATE TABLE events_ancient PARTITION OF events FOR VALUES FROM ('2001-01-01') TO ('2001-02-01');
    INSERT INTO events VALUES ('2001-01-15');
  )");
  const Outcome outcome =
      apply_policy(db, make_policy("  table: events\n  interval: monthly\n  premake: 1\n"
                                   "  retention: {keep: 12 months, action: detach}\n"));
  REQUIRE(outcome.ready());
  CHECK(db.count("SELECT count(*) FROM events_ancient") == 1);
  CHECK(db.count("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'events_ancient'::regclass") ==
        0);
}

TEST_CASE("integer keys keep a span below the maximum key") {
  TestDatabase db;
  db.exec(R"(
    CREATE TABLE ledger (id bigint NOT NULL) PARTITION BY RANGE (id);
    CREATE TABLE ledger_a PARTITION OF ledger FOR VALUES FROM (0) TO (1000);
    CREATE TABLE ledger_b PARTITION OF ledger FOR VALUES FROM (1000) TO (2000);
    CREATE TABLE ledger_c PARTITION OF ledger FOR VALUES FROM (2000) TO (3000);
    INSERT INTO ledger VALUES (5), (1500), (2999);
  )");
  const Outcome outcome = apply_policy(
      db,
      make_policy("  table: ledger\n  interval: 1000\n  premake: 2\n  retention: {keep: 1500}\n"));
  REQUIRE_MESSAGE(outcome.ready(), outcome.condition("Ready")->message);
  // max 2999 - 1500 = 1499: [0,1000) expired, [1000,2000) kept.
  CHECK(db.scalar("SELECT to_regclass('ledger_a')").empty());
  CHECK(db.scalar("SELECT to_regclass('ledger_b')") == "ledger_b");
  CHECK(db.partitions("ledger") == std::vector<std::string>{"ledger_b", "ledger_c", "ledger_p3000",
                                                            "ledger_p4000", "ledger_default"});
}

}  // namespace partop::testing
