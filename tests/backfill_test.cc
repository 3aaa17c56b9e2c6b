// PartitionBackfill against a real PostgreSQL: history recomputed one partition at a time from a
// source through a shadow and a swap, while a reader checks that every partition it sees is
// entirely old or entirely new; writes into a partition under rebuild, a lock holder at the swap,
// a range reaching the present, and partop killed at any step.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include <pqxx/pqxx>

#include "reconcilers/backfill/backfill_parser.h"
#include "reconcilers/backfill/backfill_reconciler.h"
#include "reconcilers/document/yaml_documents.h"
#include "reconcilers/partition/pg_session.h"
#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

// usage: daily partitions from 12 days back to 2 ahead (UTC), 1,000 rows of amount 1 on each
// past day. usage_v2, the corrected history: 1,100 rows of amount 2 per day.
void create_usage(const TestDatabase& db) {
  db.exec(R"(
    SET timezone = 'UTC';
    CREATE TABLE usage (id bigint NOT NULL, day timestamptz NOT NULL, tenant int NOT NULL,
                        amount bigint NOT NULL, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
    CREATE INDEX usage_tenant ON usage (tenant);
  )");
  db.create_daily_partitions("usage", -12, 2);
  db.exec(R"(
    SET timezone = 'UTC';
    INSERT INTO usage SELECT i,
        current_date::timestamp AT TIME ZONE 'UTC' - ((i % 12) + 1) * interval '1 day'
          + (i % 1440) * interval '1 minute', i % 7, 1
      FROM generate_series(1, 12000) i;
    CREATE TABLE usage_v2 AS SELECT id, day, tenant, 2::bigint AS amount FROM usage
      UNION ALL SELECT id + 100000, day, tenant, 2 FROM usage WHERE id <= 1200;
    ANALYZE usage;
  )");
}

std::string day(const TestDatabase& db, int offset) {
  return db.scalar("SELECT to_char(current_date + " + std::to_string(offset) + ", 'YYYY-MM-DD')");
}

// Days 8 to 4 back: five partitions.
std::string spec_yaml(const TestDatabase& db, const std::string& extra = "") {
  return "  table: usage\n  source: usage_v2\n  range: {from: \"" + day(db, -8) + "\", to: \"" +
         day(db, -3) + "\"}\n  guards: {lockTimeout: 300ms}\n" + extra;
}

Backfill make_backfill(const std::string& spec) {
  const YamlDocuments documents = read_yaml_documents(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionBackfill\nmetadata: {name: fix}\n"
      "spec:\n" +
      spec);
  REQUIRE_FALSE(documents.error.has_value());
  const ParsedBackfill parsed = parse_backfill(documents.documents.at(0).value);
  REQUIRE_MESSAGE(parsed.ok(), parsed.error_summary());
  return *parsed.backfill;
}

Outcome apply_backfill(const TestDatabase& db, const Backfill& backfill,
                       std::chrono::milliseconds slice = std::chrono::milliseconds{0}) {
  static const SystemClock clock;
  try {
    const auto session = open_pg_session(db.dsn(), backfill.spec.guards.lock_timeout);
    return BackfillReconciler(clock, {}, slice)
        .reconcile(*session, backfill, ReconcileMode::kApply);
  } catch (const std::exception& error) {
    FAIL_CHECK("the backfill engine threw: " << std::string(error.what()));
    return Outcome{};
  }
}

std::string reason_of(const Outcome& outcome) {
  const Condition* ready = outcome.condition("Ready");
  return ready == nullptr ? "" : ready->reason + ": " + ready->message;
}

// Partitions of the range that are neither entirely old (1,000 rows of 1) nor entirely new
// (1,100 rows of 2), or missing, as one line each.
std::string mixed_partitions(pqxx::connection& connection, const std::string& from,
                             const std::string& to) {
  pqxx::nontransaction tx(connection);
  const pqxx::result rows =
      tx.exec("SELECT tableoid::regclass::text, count(*), sum(amount) FROM usage WHERE day >= " +
              tx.quote(from) + " AND day < " + tx.quote(to) + " GROUP BY 1");
  std::string out;
  if (rows.size() != 5) out += std::to_string(rows.size()) + " partitions seen\n";
  for (const auto& row : rows) {
    const auto count = row[1].as<int64_t>();
    const auto sum = row[2].as<int64_t>();
    if (!(count == 1000 && sum == 1000) && !(count == 1100 && sum == 2200))
      out += row[0].as<std::string>() + ": " + std::to_string(count) + " rows, sum " +
             std::to_string(sum) + "\n";
  }
  return out;
}

void check_rebuilt(const TestDatabase& db) {
  const std::string range = "day >= '" + day(db, -8) + "' AND day < '" + day(db, -3) + "'";
  CHECK(db.scalar("SELECT count(*) || ':' || sum(amount) FROM usage WHERE " + range) ==
        "5500:11000");
  CHECK(db.scalar("SELECT count(*) || ':' || sum(amount) FROM usage WHERE NOT (" + range + ")") ==
        "7000:7000");
  // Every partition's indexes are attached to the parent's, valid, under their old names.
  CHECK(db.count("SELECT count(*) FROM pg_inherits i JOIN pg_index x ON x.indexrelid = i.inhrelid"
                 " WHERE i.inhparent IN ('usage_pkey'::regclass, 'usage_tenant'::regclass)"
                 " AND x.indisvalid") == 30);
  CHECK(db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'usage'::regclass") == 15);
  CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'usage\\_p%\\_shadow%'") == 0);
}

// The control table's state of `partition`, "" before it has one.
std::string state_of(const TestDatabase& db, const std::string& partition) {
  if (db.scalar("SELECT to_regclass('partop_backfills') IS NULL") == "t") return "";
  return db.scalar("SELECT state FROM partop_backfills WHERE partition_name = '" + partition + "'");
}

// Reconciles one step at a time (a 1 ms slice) until `partition` reaches `state`.
void step_until(const TestDatabase& db, const Backfill& backfill, const std::string& partition,
                const std::string& state) {
  for (int i = 0; i < 40 && state_of(db, partition) != state; ++i)
    apply_backfill(db, backfill, std::chrono::milliseconds{1});
  REQUIRE(state_of(db, partition) == state);
}

}  // namespace

TEST_CASE(
    "a backfill rebuilds each partition of its range while readers see old or new, never a mix") {
  TestDatabase db;
  create_usage(db);
  const std::string index_names_before = db.scalar(
      "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes"
      " WHERE tablename = 'usage_p" +
      db.scalar("SELECT to_char(current_date - 6, "
                "'YYYYMMDD')") +
      "'");
  const std::string from = day(db, -8);
  const std::string to = day(db, -3);
  std::atomic<bool> stop{false};
  std::string violations;
  int64_t samples = 0;
  std::thread reader([&] {
    pqxx::connection connection(db.dsn());
    while (!stop) {
      const std::string seen = mixed_partitions(connection, from, to);
      if (!seen.empty() && violations.size() < 2000) violations += seen;
      ++samples;
    }
  });
  const Outcome outcome =
      apply_backfill(db, make_backfill(spec_yaml(db, "  slicesPerPartition: 4\n")));
  stop = true;
  reader.join();
  REQUIRE_MESSAGE(outcome.ready(), reason_of(outcome));
  CHECK(outcome.condition("Ready")->reason == "Complete");
  REQUIRE(outcome.backfill.has_value());
  CHECK(outcome.backfill->done == 5);
  CHECK(outcome.backfill->total == 5);
  CHECK(outcome.backfill->rows_written == 5500);
  CHECK_MESSAGE(violations.empty(), violations);
  CHECK(samples > 10);
  check_rebuilt(db);
  CHECK(db.scalar("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes"
                  " WHERE tablename = 'usage_p" +
                  db.scalar("SELECT to_char(current_date - 6, 'YYYYMMDD')") + "'") ==
        index_names_before);
  // The old partitions are kept, detached, with the old rows.
  CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'usage\\_p%\\_replaced'"
                 " AND relkind = 'r' AND NOT relispartition") == 5);
  CHECK(db.count("SELECT count(*) FROM partop_backfills WHERE state = 'swapped'") == 5);
  // Nothing is left to do.
  const Outcome again = apply_backfill(db, make_backfill(spec_yaml(db)));
  CHECK(again.ready());
  CHECK(again.actions_taken.empty());
}

TEST_CASE("a partition written to during its rebuild is set aside with Conflict and rebuilt last") {
  TestDatabase db;
  create_usage(db);
  const Backfill backfill = make_backfill(spec_yaml(db, "  replaced: drop\n"));
  const std::string first = "usage_p" + db.scalar("SELECT to_char(current_date - 8, 'YYYYMMDD')");
  step_until(db, backfill, first, "building");
  // The application writes into it.
  db.exec("UPDATE usage SET amount = 5 WHERE id = 7 AND day >= '" + day(db, -8) + "' AND day < '" +
          day(db, -7) + "'");
  const Outcome outcome = apply_backfill(db, backfill);
  REQUIRE_MESSAGE(outcome.ready(), reason_of(outcome));
  bool conflict_reported = false;
  for (const auto& finding : outcome.findings) conflict_reported |= finding.reason == "Conflict";
  CHECK(conflict_reported);
  CHECK(db.scalar("SELECT conflicts FROM partop_backfills WHERE partition_name = '" + first +
                  "'") == "1");
  // It was rebuilt last, after the other four.
  CHECK(
      db.scalar("SELECT partition_name FROM partop_backfills ORDER BY finished_at DESC LIMIT 1") ==
      first);
  check_rebuilt(db);
  CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname LIKE 'usage\\_p%\\_replaced'") == 0);
}

TEST_CASE("a write committed while the swap waits for its lock is caught by the swap itself") {
  TestDatabase db;
  create_usage(db);
  // A lockTimeout long enough for the swap to be seen waiting before the write commits.
  const Backfill backfill = make_backfill("  table: usage\n  source: usage_v2\n  range: {from: \"" +
                                          day(db, -8) + "\", to: \"" + day(db, -3) +
                                          "\"}\n  replaced: drop\n  guards: {lockTimeout: 10s}\n");
  const std::string first = "usage_p" + db.scalar("SELECT to_char(current_date - 8, 'YYYYMMDD')");
  step_until(db, backfill, first, "ready");
  // The application's write is under way (not committed) when the swap is planned: the plan sees
  // no write and the swap queues behind the writer's lock.
  pqxx::connection application(db.dsn());
  pqxx::work writing(application);
  writing.exec("UPDATE usage SET amount = 5 WHERE id = 7 AND day >= '" + day(db, -8) +
               "' AND day < '" + day(db, -7) + "'");
  Outcome outcome;
  std::thread run([&] { outcome = apply_backfill(db, backfill); });
  bool swap_waiting = false;
  for (int i = 0; i < 1000 && !swap_waiting; ++i) {
    swap_waiting = db.count(
                       "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND wait_event_type = 'Lock' AND query LIKE '%LOCK TABLE ONLY%'") > 0;
    if (!swap_waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  writing.commit();
  run.join();
  REQUIRE(swap_waiting);
  REQUIRE_MESSAGE(outcome.ready(), reason_of(outcome));
  bool caught_by_swap = false;
  for (const auto& finding : outcome.findings) {
    caught_by_swap |=
        finding.reason == "Conflict" &&
        finding.message.find("received writes during its rebuild") != std::string::npos;
  }
  CHECK(caught_by_swap);
  CHECK(db.scalar("SELECT conflicts FROM partop_backfills WHERE partition_name = '" + first +
                  "'") == "1");
  check_rebuilt(db);
}

TEST_CASE(
    "a session holding the partition makes the swap back off, other writes wait at most "
    "lockTimeout") {
  TestDatabase db;
  create_usage(db);
  const Backfill backfill = make_backfill(spec_yaml(db));
  const std::string first = "usage_p" + db.scalar("SELECT to_char(current_date - 8, 'YYYYMMDD')");
  step_until(db, backfill, first, "ready");
  pqxx::connection holder(db.dsn());
  pqxx::work holding(holder);
  holding.exec("SELECT count(*) FROM " + first);  // ACCESS SHARE until the end of the transaction
  // Today's partition takes writes throughout; none waits longer than lockTimeout and a margin.
  std::atomic<bool> stop{false};
  std::chrono::steady_clock::duration longest{};
  int64_t writes = 0;
  std::thread writer([&] {
    pqxx::connection connection(db.dsn());
    for (int64_t id = 1'000'000; !stop; ++id) {
      const auto started = std::chrono::steady_clock::now();
      pqxx::nontransaction(connection)
          .exec("INSERT INTO usage VALUES (" + std::to_string(id) + ", now(), 1, 1)");
      longest = std::max(longest, std::chrono::steady_clock::now() - started);
      ++writes;
    }
  });
  const Outcome young_holder = apply_backfill(db, backfill);  // it queues for lockTimeout
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const Outcome old_holder = apply_backfill(db, backfill);  // it does not queue at all
  stop = true;
  writer.join();
  CHECK(young_holder.condition("Ready")->reason == "LockTimeout");
  CHECK(old_holder.condition("Ready")->reason == "LockTimeout");
  CHECK(writes > 10);
  CHECK(longest < std::chrono::milliseconds(300 + 1000));
  CHECK(state_of(db, first) == "ready");
  holding.abort();
  const Outcome done = apply_backfill(db, backfill);
  REQUIRE_MESSAGE(done.ready(), reason_of(done));
}

TEST_CASE("a backfill refuses a range reaching the present, a range off the bounds, a bad source") {
  TestDatabase db;
  create_usage(db);
  db.reset_ddl_log();
  const auto reason = [&](const std::string& spec) {
    const Outcome outcome = apply_backfill(db, make_backfill(spec));
    CHECK_FALSE(outcome.ready());
    CHECK(outcome.condition("Stalled")->status == "True");
    return outcome.condition("Ready")->reason + ": " + outcome.condition("Ready")->message;
  };
  CHECK(reason("  table: usage\n  source: usage_v2\n  range: {from: \"" + day(db, -2) +
               "\", to: \"" + day(db, 1) + "\"}\n")
            .find("RangeIncludesCurrent: spec.range") == 0);
  CHECK(reason("  table: usage\n  source: usage_v2\n  range: {from: \"" + day(db, -20) +
               "\", to: \"" + day(db, -3) + "\"}\n")
            .find("RangeNotOnPartitionBounds: spec.range") == 0);
  CHECK(reason("  table: usage\n  source: usage_v2\n  range: {from: 1, to: 5}\n")
            .find("InvalidSpec: spec.range.from: 1 is not a date or UTC time") == 0);
  CHECK(reason("  table: usage\n  source: nothing_here\n  range: {from: \"" + day(db, -8) +
               "\", to: \"" + day(db, -3) + "\"}\n")
            .find("SourceNotFound") == 0);
  db.exec("CREATE VIEW usage_partial AS SELECT id, day FROM usage_v2");
  db.reset_ddl_log();
  CHECK(
      reason("  table: usage\n  source: usage_partial\n  range: {from: \"" + day(db, -8) +
             "\", to: \"" + day(db, -3) + "\"}\n")
          .find("SourceColumnsMissing: spec.source: public.usage_partial has no column(s) tenant, "
                "amount") == 0);
  CHECK(db.ddl_count() == 0);
}

TEST_CASE("partop killed at any step of a backfill resumes with every partition old or new") {
  TestDatabase reference;
  const std::string file = write_temp_file(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionBackfill\nmetadata: {name: fix}\n"
      "spec:\n" +
      spec_yaml(reference, "  slicesPerPartition: 4\n"));
  for (const std::string point :
       {"after-commit:start-backfill", "before-commit:fill-slice#3", "after-commit:fill-slice#2",
        "after-commit:prepare-shadow", "before-commit:finish-shadow",
        "before-commit:swap-partition#2", "after-commit:swap-partition"}) {
    CAPTURE(point);
    TestDatabase db;
    create_usage(db);
    const CommandResult crashed = run_command(PARTOP_BIN, {"apply", "-f", file, "--dsn", db.dsn()},
                                              {"PARTOP_CRASH_AT=" + point});
    CHECK_MESSAGE(crashed.exit_code == 137, crashed.output);
    pqxx::connection connection(db.dsn());
    CHECK(mixed_partitions(connection, day(db, -8), day(db, -3)).empty());
    const CommandResult recovered =
        run_command(PARTOP_BIN, {"apply", "-f", file, "--dsn", db.dsn()});
    CHECK_MESSAGE(recovered.exit_code == 0, recovered.output);
    check_rebuilt(db);
    const CommandResult again = run_command(PARTOP_BIN, {"apply", "-f", file, "--dsn", db.dsn()});
    CHECK(again.output.find("applied:") == std::string::npos);
  }
}

TEST_CASE("partop plan prints a backfill's next steps as SQL and runs nothing") {
  TestDatabase db;
  create_usage(db);
  db.reset_ddl_log();
  const std::string file = write_temp_file(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionBackfill\nmetadata: {name: fix}\n"
      "spec:\n" +
      spec_yaml(db));
  const CommandResult plan = run_command(PARTOP_BIN, {"plan", "-f", file, "--dsn", db.dsn()});
  CHECK_MESSAGE(plan.exit_code == 0, plan.output);
  CHECK(plan.output.find("-- backfill fix (public.usage from public.usage_v2): 0/5 partition(s) "
                         "rebuilt; next steps for public.usage_p") != std::string::npos);
  CHECK(plan.output.find("CREATE TABLE \"public\".\"usage_p") != std::string::npos);
  CHECK(db.ddl_count() == 0);
  const CommandResult status = run_command(PARTOP_BIN, {"status", "-f", file, "--dsn", db.dsn()});
  CHECK(status.exit_code == 1);
  CHECK(status.output.find("backfill: 0/5 partition(s) rebuilt") != std::string::npos);
}

}  // namespace partop::testing
