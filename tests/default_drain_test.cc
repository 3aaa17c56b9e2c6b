// Draining the DEFAULT partition against a real PostgreSQL, with an application inserting
// concurrently: no row lost or duplicated, no gap left in the partition range.
#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include "tests/support/load.h"
#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

constexpr const char* kSeedChecksum =
    "SELECT count(*) || ':' || sum(hashtext(id::text || created_at::text || payload)) FROM events "
    "WHERE payload LIKE 'seed%'";

void create_events_with_default(const TestDatabase& db) {
  db.exec(R"(
    CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, created_at timestamptz NOT NULL,
                         payload text NOT NULL) PARTITION BY RANGE (created_at);
    CREATE TABLE events_default PARTITION OF events DEFAULT;
  )");
}

}  // namespace

TEST_CASE("100k rows in DEFAULT are drained while an application keeps inserting") {
  TestDatabase db;
  create_events_with_default(db);
  db.exec(R"(
    INSERT INTO events (created_at, payload)
      SELECT date_trunc('day', now(), 'UTC') - interval '10 days' + (i * interval '8 seconds'),
             'seed-' || i FROM generate_series(1, 100000) i;
    CREATE TABLE events_future PARTITION OF events
      FOR VALUES FROM (date_trunc('day', now(), 'UTC') + interval '30 days')
                   TO (date_trunc('day', now(), 'UTC') + interval '31 days');
  )");
  const std::string before = db.scalar(kSeedChecksum);
  REQUIRE(db.count("SELECT count(*) FROM ONLY events_default") == 100000);

  StatementLoop inserter(db.dsn(),
                         "INSERT INTO events (created_at, payload) VALUES "
                         "(date_trunc('day', now(), 'UTC') + interval '30 days 1 hour', 'live')");
  const Outcome outcome =
      apply_policy(db, make_policy("  table: events\n  interval: daily\n  premake: 3\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  inserter.stop();

  CHECK_MESSAGE(outcome.ready(),
                (outcome.ready_reason() + ": " + outcome.condition("Ready")->message));
  CHECK(outcome.rows_drained == 100000);
  CHECK(db.count("SELECT count(*) FROM ONLY events_default") == 0);
  CHECK(db.scalar(kSeedChecksum) == before);
  CHECK(db.count(
            "SELECT count(*) FROM (SELECT id FROM events GROUP BY id HAVING count(*) > 1) d") == 0);
  CHECK(inserter.failed() == 0);
  CHECK(inserter.succeeded() > 0);
  CHECK(db.count("SELECT count(*) FROM events WHERE payload = 'live'") == inserter.succeeded());
  MESSAGE("inserter: " << inserter.succeeded() << " rows, longest " << inserter.longest().count()
                       << " ms");
  CHECK(inserter.longest() < std::chrono::milliseconds(3500));
  // No gap from the oldest drained day to the far-future partition: 10 past days, today, 30
  // days ahead (the last being events_future), each its own partition.
  CHECK(db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass") ==
        10 + 1 + 30 + 1);
  CHECK(outcome.figures.buffered_until.has_value());
}

TEST_CASE("rows past retention stay in DEFAULT and are reported") {
  TestDatabase db;
  create_events_with_default(db);
  db.exec(R"(
    INSERT INTO events (created_at, payload)
      SELECT now() - interval '400 days', 'seed-old-' || i FROM generate_series(1, 10) i;
  )");
  const Outcome outcome = apply_policy(
      db,
      make_policy(
          "  table: events\n  interval: monthly\n  premake: 1\n  retention: {keep: 6 months}\n"));
  CHECK(outcome.ready());
  CHECK(db.count("SELECT count(*) FROM ONLY events_default") == 10);
  CHECK(outcome.condition("DefaultPartitionEmpty")->status == "False");
  bool reported = false;
  for (const auto& finding : outcome.findings) reported |= finding.reason == "RowsPastRetention";
  CHECK(reported);
}

// What blocks what around a drain (README, "DEFAULT drain"): ATTACH needs ACCESS EXCLUSIVE on
// DEFAULT, so a reader with DEFAULT open — here a report scanning the whole table in an open
// transaction — makes partop back off at once (the lock pre-check) instead of queueing behind it
// and stalling every later reader; a reader whose query was pruned to another partition when it
// was planned does not.
TEST_CASE("a reader holding DEFAULT makes a drain back off, a reader of another partition not") {
  TestDatabase db;
  create_events_with_default(db);
  db.exec(R"(
    CREATE TABLE events_today PARTITION OF events
      FOR VALUES FROM (date_trunc('day', now(), 'UTC')) TO (date_trunc('day', now(), 'UTC') + interval '1 day');
    INSERT INTO events (created_at, payload) VALUES (now() - interval '3 days', 'seed');
  )");
  const Policy policy = make_policy("  table: events\n  interval: daily\n  premake: 2\n");
  pqxx::connection reader(db.dsn());
  {
    // Pruned at plan time, so DEFAULT is not locked: both bounds are constants. With now() (or
    // timestamptz + interval, also only stable) in them it is pruned at run time and locks every
    // partition, DEFAULT included, like the report below.
    const std::string from = db.scalar("SELECT date_trunc('day', now(), 'UTC')");
    const std::string to = db.scalar("SELECT date_trunc('day', now(), 'UTC') + interval '1 hour'");
    pqxx::work pruned(reader);
    pruned.exec("SELECT count(*) FROM events WHERE created_at >= " + pruned.quote(from) +
                " AND created_at < " + pruned.quote(to));
    const Outcome drained = apply_policy(db, policy);
    CHECK_MESSAGE(drained.ready(), drained.ready_reason());
    CHECK(drained.rows_drained == 1);
  }
  db.exec("INSERT INTO events (created_at, payload) VALUES (now() - interval '5 days', 'seed')");
  {
    pqxx::work report(reader);
    report.exec("SELECT count(*) FROM events");  // holds ACCESS SHARE on every partition
    const Outcome blocked = apply_policy(db, policy);
    CHECK(blocked.ready_reason() == "LockTimeout");
    CHECK(db.count("SELECT count(*) FROM ONLY events_default") == 1);
  }
  CHECK(apply_policy(db, policy).rows_drained == 1);  // once the report has ended
}

TEST_CASE("with drain disabled, a partition whose rows sit in DEFAULT is reported, not forced") {
  TestDatabase db;
  create_events_with_default(db);
  db.exec("INSERT INTO events (created_at, payload) VALUES (now() + interval '1 day', 'seed')");
  const Outcome outcome =
      apply_policy(db, make_policy("  table: events\n  interval: daily\n  premake: 2\n  "
                                   "defaultPartition: {drain: false}\n"));
  CHECK_FALSE(outcome.ready());
  CHECK(outcome.ready_reason() == "DefaultPartitionNotEmpty");
  CHECK(db.count("SELECT count(*) FROM ONLY events_default") == 1);
}

}  // namespace partop::testing

namespace partop::testing {

TEST_CASE("rows referenced by a foreign key stay in DEFAULT: a move would fire ON DELETE") {
  TestDatabase db;
  db.exec(
      "CREATE TABLE events (id bigint, created_at timestamptz NOT NULL,"
      "  PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);"
      "CREATE TABLE events_default PARTITION OF events DEFAULT;"
      "INSERT INTO events SELECT i, now() - interval '1 day' FROM generate_series(1, 50) i;"
      "CREATE TABLE receipts (event_id bigint, event_at timestamptz,"
      "  FOREIGN KEY (event_id, event_at) REFERENCES events ON DELETE CASCADE);"
      "INSERT INTO receipts SELECT id, created_at FROM events;");
  const Outcome outcome =
      apply_policy(db, make_policy("  table: events\n  interval: daily\n  premake: 2\n"));
  INFO(outcome.condition("Ready")->message);
  CHECK(outcome.ready_reason() == "ReferencedByForeignKey");
  CHECK(outcome.condition("Ready")->message.find("receipts_event_id_event_at_fkey on receipts") !=
        std::string::npos);
  CHECK(outcome.condition("Stalled")->status == "True");
  // Nothing moved, nothing cascaded; the partitions that hold no DEFAULT rows were created.
  CHECK(db.count("SELECT count(*) FROM receipts") == 50);
  CHECK(db.count("SELECT count(*) FROM ONLY events_default") == 50);
  CHECK(db.partitions("events").size() == 4);  // today, two ahead, DEFAULT
}

}  // namespace partop::testing

namespace partop::testing {

TEST_CASE("stray keys stay in DEFAULT and are reported, the rest of the policy goes on") {
  TestDatabase db;
  db.exec(
      "CREATE TABLE events (created_at timestamptz, payload text) PARTITION BY RANGE "
      "(created_at);"
      "CREATE TABLE events_default PARTITION OF events DEFAULT;"
      "INSERT INTO events SELECT now() - interval '1 day', 'yesterday' FROM generate_series(1, "
      "100);"
      "INSERT INTO events VALUES ('infinity', 'broken clock'), ('-infinity', 'broken clock'),"
      "  ('2099-06-01', 'far future'), ('1970-01-01', 'epoch zero'), (NULL, 'no key');");
  const Outcome outcome =
      apply_policy(db, make_policy("  table: events\n  interval: daily\n  premake: 3\n"));
  INFO(outcome.condition("Ready")->message);
  CHECK(outcome.ready_reason() == "RowsOutsideHorizon");
  CHECK(outcome.condition("Ready")->message.find("4 row(s) in DEFAULT lie outside") == 0);
  CHECK(outcome.condition("Ready")->message.find("2 with an infinite key") != std::string::npos);
  CHECK(outcome.condition("Ready")->message.find("2099-06-01") != std::string::npos);
  // Yesterday was drained; today and three days ahead exist; nothing was planned for 1970 or
  // 2099: the plan is bounded by the policy, not by the data.
  CHECK(outcome.rows_drained == 100);
  CHECK(db.partitions("events").size() == 6);  // yesterday, today, +3, DEFAULT
  CHECK(db.count("SELECT count(*) FROM ONLY events_default") == 5);
  // A second run has nothing more to do and says the same.
  const Outcome again =
      apply_policy(db, make_policy("  table: events\n  interval: daily\n  premake: 3\n"));
  CHECK(again.actions_taken.empty());
  CHECK(again.ready_reason() == "RowsOutsideHorizon");
}

}  // namespace partop::testing
