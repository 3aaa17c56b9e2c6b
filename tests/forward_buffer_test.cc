// Forward buffer against a real PostgreSQL: creation from empty and from gaps, idempotence, and
// every supported key type and interval.
#include <doctest/doctest.h>

#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

std::string ready_message(const Outcome& outcome) {
  const Condition* ready = outcome.condition("Ready");
  return ready == nullptr ? "no Ready condition" : ready->reason + ": " + ready->message;
}

}  // namespace

TEST_CASE("an empty table gets DEFAULT and premake+1 partitions, a second apply runs no DDL") {
  TestDatabase db;
  db.exec(
      "CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE "
      "(created_at)");
  db.reset_ddl_log();
  const Policy policy = make_policy("  table: events\n  interval: daily\n  premake: 5\n");
  Outcome outcome = apply_policy(db, policy);
  REQUIRE_MESSAGE(outcome.ready(), ready_message(outcome));
  // No row can be written to a table without partitions: DEFAULT and all six cells commit in
  // one transaction.
  REQUIRE(outcome.actions_taken.size() == 1);
  CHECK(outcome.actions_taken[0].find(
            "create DEFAULT partition public.events_default, 6 partitions public.events_p") == 0);
  CHECK(outcome.figures.partition_count == 6);
  CHECK(db.partitions("events").size() == 7);
  CHECK(db.partitions("events").back() == "events_default");
  // The partition holding now exists and accepts a row; routing works on other connections.
  db.exec("INSERT INTO events VALUES (1, now()), (2, now() + interval '5 days')");
  CHECK(db.count("SELECT count(*) FROM ONLY events_default") == 0);
  // No partition was created with PARTITION OF (which locks the parent ACCESS EXCLUSIVE).
  CHECK(db.count("SELECT count(*) FROM partop_test_ddl_log WHERE tag = 'ALTER TABLE'") >= 6);

  db.reset_ddl_log();
  outcome = apply_policy(db, policy);
  CHECK(outcome.ready());
  CHECK(outcome.actions_taken.empty());
  CHECK(db.ddl_count() == 0);
}

TEST_CASE("gaps between existing partitions are filled, existing ones untouched") {
  TestDatabase db;
  db.exec(R"(
    CREATE TABLE metrics (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
    CREATE TABLE metrics_old PARTITION OF metrics
      FOR VALUES FROM (date_trunc('day', now(), 'UTC') - interval '4 days')
                   TO (date_trunc('day', now(), 'UTC') - interval '3 days');
    INSERT INTO metrics VALUES (date_trunc('day', now(), 'UTC') - interval '4 days' + interval '1 hour', 1);
  )");
  const std::string old_oid = db.scalar("SELECT 'metrics_old'::regclass::oid");
  const Outcome outcome =
      apply_policy(db, make_policy("  table: metrics\n  interval: daily\n  premake: 2\n"));
  REQUIRE_MESSAGE(outcome.ready(), ready_message(outcome));
  // old (-4), then -3, -2, -1, today, +1, +2: six new, plus DEFAULT.
  CHECK(db.partitions("metrics").size() == 8);
  CHECK(db.scalar("SELECT 'metrics_old'::regclass::oid") == old_oid);
  CHECK(outcome.figures.buffered_until.has_value());
  CHECK(db.count("SELECT count(*) FROM metrics_old") == 1);
}

TEST_CASE(
    "a hand-made layout partop cannot extend without holes or mixed widths runs no cell DDL") {
  TestDatabase db;
  db.exec(R"(
    CREATE TABLE metrics (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
    CREATE TABLE metrics_half PARTITION OF metrics
      FOR VALUES FROM (date_trunc('day', now(), 'UTC') - interval '36 hours')
                   TO (date_trunc('day', now(), 'UTC') - interval '12 hours');
  )");
  db.reset_ddl_log();
  Outcome outcome =
      apply_policy(db, make_policy("  table: metrics\n  interval: daily\n  premake: 2\n"));
  CHECK(outcome.ready_reason() == "PartitionConflict");
  CHECK(outcome.condition("Stalled")->status == "True");
  CHECK(outcome.condition("Ready")->message.find("public.metrics_half") != std::string::npos);
  // DEFAULT only: a daily cell beside metrics_half would leave half a day routed to DEFAULT.
  CHECK(db.partitions("metrics") == std::vector<std::string>{"metrics_half", "metrics_default"});

  db.exec(R"(
    CREATE TABLE monthly (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
    CREATE TABLE monthly_this PARTITION OF monthly
      FOR VALUES FROM (date_trunc('month', now(), 'UTC'))
                   TO (date_trunc('month', now(), 'UTC') + interval '1 month');
  )");
  outcome = apply_policy(db, make_policy("  table: monthly\n  interval: daily\n  premake: 2\n"));
  CHECK(outcome.ready_reason() == "LayoutMismatch");
  CHECK(db.partitions("monthly") == std::vector<std::string>{"monthly_this", "monthly_default"});
}

TEST_CASE("every key type and interval") {
  struct Case {
    std::string type;
    std::string interval;
  };
  const std::vector<Case> cases = {
      {"timestamptz", "hourly"},  {"timestamptz", "daily"},     {"timestamptz", "weekly"},
      {"timestamptz", "monthly"}, {"timestamptz", "quarterly"}, {"timestamptz", "yearly"},
      {"timestamp", "hourly"},    {"timestamp", "monthly"},     {"date", "daily"},
      {"date", "weekly"},         {"date", "yearly"},           {"integer", "1000"},
      {"bigint", "100000"}};
  TestDatabase db;
  for (const auto& c : cases) {
    CAPTURE(c.type);
    CAPTURE(c.interval);
    const std::string table =
        "t_" + c.type + "_" + (std::isdigit(c.interval[0]) ? "n" + c.interval : c.interval);
    db.exec("CREATE TABLE " + table + " (k " + c.type +
            " NOT NULL, note text) PARTITION BY RANGE (k)");
    if (c.type == "integer" || c.type == "bigint") {
      db.exec("CREATE TABLE " + table + "_seed PARTITION OF " + table +
              " FOR VALUES FROM (0) TO (" + c.interval + ")");
      db.exec("INSERT INTO " + table + " VALUES (" + std::to_string(std::stoll(c.interval) / 2) +
              ", 'x')");
    }
    const Outcome outcome = apply_policy(db, make_policy("  table: " + table + "\n  interval: \"" +
                                                         c.interval + "\"\n  premake: 3\n"));
    REQUIRE_MESSAGE(outcome.ready(), ready_message(outcome));
    CHECK(outcome.figures.partition_count == 4);
    // A row at the current instant (or the max key) routes to a real partition, not DEFAULT.
    if (c.type == "integer" || c.type == "bigint") {
      db.exec("INSERT INTO " + table + " VALUES (" +
              std::to_string(std::stoll(c.interval) * 3 + 1) + ", 'y')");
    } else {
      db.exec("INSERT INTO " + table + " VALUES (now()::" + c.type + ", 'now')");
    }
    CHECK(db.count("SELECT count(*) FROM ONLY " + table + "_default") == 0);
    // Time keys: nothing more to do. Integer keys: the new maximum key moved the anchor three
    // cells up, so exactly three more partitions keep the buffer at premake (the first alone,
    // the other two in one transaction).
    const Outcome second = apply_policy(db, make_policy("  table: " + table + "\n  interval: \"" +
                                                        c.interval + "\"\n  premake: 3\n"));
    CHECK(second.ready());
    CHECK(second.actions_taken.size() == (c.type == "integer" || c.type == "bigint" ? 2U : 0U));
  }
}

TEST_CASE("table problems are reported with their reason and run no DDL") {
  TestDatabase db;
  db.exec(R"(
    CREATE TABLE plain (id int);
    CREATE TABLE listed (k text) PARTITION BY LIST (k);
    CREATE TABLE texty (k text) PARTITION BY RANGE (k);
    CREATE TABLE two_cols (a int, b int) PARTITION BY RANGE (a, b);
    CREATE TABLE by_int (k int) PARTITION BY RANGE (k);
  )");
  db.reset_ddl_log();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"  table: missing\n  interval: daily\n", "TableNotFound"},
      {"  table: plain\n  interval: daily\n", "TableNotPartitioned"},
      {"  table: listed\n  interval: daily\n", "UnsupportedPartitionKey"},
      {"  table: texty\n  interval: daily\n", "UnsupportedPartitionKey"},
      {"  table: two_cols\n  interval: 10\n", "UnsupportedPartitionKey"},
      {"  table: by_int\n  interval: daily\n", "InvalidSpec"},
      {"  table: by_int\n  interval: 10\n  indexes: [{name: i, columns: [nope]}]\n", "InvalidSpec"},
  };
  for (const auto& [spec, reason] : cases) {
    CAPTURE(spec);
    const Outcome outcome = apply_policy(db, make_policy(spec));
    CHECK_FALSE(outcome.ready());
    CHECK(outcome.ready_reason() == reason);
    CHECK(outcome.condition("Stalled")->status == "True");
  }
  CHECK(db.ddl_count() == 0);
}

TEST_CASE("suspend observes and reports without DDL") {
  TestDatabase db;
  db.exec("CREATE TABLE events (created_at timestamptz) PARTITION BY RANGE (created_at)");
  db.reset_ddl_log();
  const Outcome outcome =
      apply_policy(db, make_policy("  table: events\n  interval: daily\n  suspend: true\n"));
  CHECK(outcome.ready_reason() == "Suspended");
  // DEFAULT and the eight cells (premake's default is 7) of a table without partitions: one
  // transaction.
  CHECK(outcome.actions_pending.size() == 1);
  CHECK(db.ddl_count() == 0);
}

TEST_CASE("the storage guard postpones forward partitions while the buffer lasts") {
  TestDatabase db;
  db.exec(R"(
    CREATE TABLE events (created_at timestamptz) PARTITION BY RANGE (created_at);
    CREATE TABLE events_today PARTITION OF events
      FOR VALUES FROM (date_trunc('day', now(), 'UTC')) TO (date_trunc('day', now(), 'UTC') + interval '1 day');
    CREATE TABLE events_tomorrow PARTITION OF events
      FOR VALUES FROM (date_trunc('day', now(), 'UTC') + interval '1 day') TO (date_trunc('day', now(), 'UTC') + interval '2 days');
  )");
  const Outcome outcome = apply_policy(
      db, make_policy("  table: events\n  interval: daily\n  defaultPartition: {enabled: false}\n"
                      "  guards: {storage: {capacity: 1Mi, thresholdPercent: 50}}\n"));
  CHECK(outcome.ready());
  CHECK(outcome.actions_taken.empty());
  bool reported = false;
  for (const auto& finding : outcome.findings) reported |= finding.reason == "StorageQuotaExceeded";
  CHECK(reported);
}

}  // namespace partop::testing
