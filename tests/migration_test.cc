// PartitionMigration (copy strategy) against a real PostgreSQL: refusals that run no DDL, and a
// live table migrated, swapped, rolled back and swapped again while an application role writes
// through the table's name and checks every result against its own ledger.
#include <doctest/doctest.h>

#include <pqxx/pqxx>

#include "reconcilers/document/yaml_documents.h"
#include "reconcilers/migration/migration_parser.h"
#include "reconcilers/migration/migration_reconciler.h"
#include "reconcilers/partition/pg_session.h"
#include "tests/support/ledger_workload.h"
#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

constexpr const char* kSpec =
    "  table: orders\n  partitionKey: created_at\n  interval: monthly\n  premake: 2\n"
    "  batchSize: 2000\n  acceptPerPartitionUniqueness: [orders_pkey]\n"
    "  guards: {lockTimeout: 1s}\n";

Migration make_migration(const std::string& spec_yaml) {
  const YamlDocuments documents = read_yaml_documents(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionMigration\nmetadata: {name: orders}\n"
      "spec:\n" +
      spec_yaml);
  REQUIRE_FALSE(documents.error.has_value());
  const ParsedMigration parsed = parse_migration(documents.documents.at(0).value);
  REQUIRE_MESSAGE(parsed.ok(), parsed.error_summary());
  return *parsed.migration;
}

// One reconcile to completion; an exception escaping the engine is a failure of the test, not
// of the process (a test thread may still be running).
Outcome apply_migration(const TestDatabase& db, const Migration& migration) {
  static const SystemClock clock;
  try {
    const auto session = open_pg_session(db.dsn(), migration.spec.guards.lock_timeout);
    return MigrationReconciler(clock, {}, std::chrono::milliseconds{0})
        .reconcile(*session, migration, ReconcileMode::kApply);
  } catch (const std::exception& error) {
    FAIL_CHECK("the migration engine threw: " << std::string(error.what()));
    return Outcome{};
  }
}

std::string reason_of(const Outcome& outcome) {
  const Condition* ready = outcome.condition("Ready");
  return ready == nullptr ? "" : ready->reason + ": " + ready->message;
}

void create_orders(const TestDatabase& db) {
  db.exec(R"(
    CREATE TABLE orders (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL,
                         amount bigint NOT NULL);
    INSERT INTO orders (created_at, amount)
      SELECT now() - (i % 700) * interval '1 day', i % 1000 FROM generate_series(1, 20000) i;
    ANALYZE orders;
  )");
}

std::map<int64_t, int64_t> table_content(const TestDatabase& db) {
  std::map<int64_t, int64_t> content;
  for (const auto& row : db.query("SELECT id, amount FROM orders")) {
    content[std::stoll(*row[0])] = std::stoll(*row[1]);
  }
  return content;
}

}  // namespace

TEST_CASE("a migration refuses what it cannot carry, naming it, and runs no DDL") {
  TestDatabase db;
  db.exec("CREATE TABLE orders (id bigint, created_at timestamptz NOT NULL)");
  db.reset_ddl_log();
  Outcome outcome = apply_migration(db, make_migration(kSpec));
  CHECK(outcome.ready_reason() == "NoPrimaryKey");
  CHECK(outcome.condition("Stalled")->status == "True");

  db.exec(R"(
    DROP TABLE orders;
    CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);
    CREATE TABLE lines (order_id bigint REFERENCES orders (id));
    CREATE VIEW recent AS SELECT * FROM orders;
  )");
  db.reset_ddl_log();
  outcome = apply_migration(db, make_migration(kSpec));
  CHECK(outcome.ready_reason() == "ReferencedByForeignKey");
  const std::string all = [&] {
    std::string text;
    for (const auto& finding : outcome.findings)
      text += finding.reason + ": " + finding.message + "\n";
    return text;
  }();
  CHECK(all.find("lines_order_id_fkey on lines") != std::string::npos);
  CHECK(all.find("DependentObjects: view recent") != std::string::npos);
  outcome = apply_migration(db, make_migration("  table: orders\n  partitionKey: created_at\n"
                                               "  interval: monthly\n"));
  CHECK(outcome.condition("Ready")->message.find("lines_order_id_fkey") != std::string::npos);
  bool unique_reported = false;
  for (const auto& finding : outcome.findings) {
    unique_reported |= finding.reason == "UniqueConstraintNotCarried" &&
                       finding.message.find("primary key orders_pkey (id)") != std::string::npos;
  }
  CHECK(unique_reported);
  CHECK(db.ddl_count() == 0);

  db.exec(
      "CREATE TABLE parted (id bigint, created_at timestamptz) PARTITION BY RANGE (created_at)");
  outcome = apply_migration(db, make_migration("  table: parted\n  partitionKey: created_at\n"
                                               "  interval: monthly\n"));
  CHECK(outcome.ready_reason() == "AlreadyPartitioned");
}

namespace {

// migrate -> swap -> roll back -> swap under the ledger workload, with `strategy`.
void migrate_under_workload(const std::string& strategy) {
  TestDatabase db;
  create_orders(db);
  const std::string app = db.name() + "_app";
  db.exec("CREATE ROLE " + app + " LOGIN");
  db.exec("GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO " + app);
  db.exec("GRANT USAGE ON SEQUENCE orders_id_seq TO " + app);

  // A reader that checks, again and again, that no id is visible twice through the name.
  std::atomic<bool> stop_sampler{false};
  std::atomic<int64_t> samples{0};
  std::atomic<int64_t> doubled{0};
  std::thread sampler([&] {
    pqxx::connection connection(dsn_as(db, app));
    while (!stop_sampler) {
      try {
        pqxx::nontransaction tx(connection);
        doubled += tx.exec1("SELECT count(*) - count(DISTINCT id) FROM orders")[0].as<int64_t>();
        ++samples;
      } catch (const std::exception&) {
        ++doubled;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  LedgerWorkload workload(dsn_as(db, app), "orders", table_content(db));
  workload.wait_for_operations(200);
  const std::string spec = std::string(kSpec) + "  strategy: " + strategy + "\n";
  const Migration forward = make_migration(spec);
  const Migration back = make_migration(spec + "  target: Original\n");
  bool all_ready = true;
  for (const Migration* step : {&forward, &back, &forward}) {
    const Outcome outcome = apply_migration(db, *step);
    CHECK_MESSAGE(outcome.ready(), reason_of(outcome));
    all_ready = all_ready && outcome.ready();
    if (!all_ready) break;
    workload.wait_for_operations(300);
  }
  workload.stop();
  stop_sampler = true;
  sampler.join();
  REQUIRE(all_ready);

  std::string violations;
  for (const auto& v : workload.violations()) violations += v + "\n";
  CHECK_MESSAGE(violations.empty(), violations);
  CHECK(doubled == 0);
  CHECK(samples > 0);
  CHECK(workload.operations() > 900);
  // The table equals the ledger; the retired table equals it (copy: kept in sync) or is empty
  // (move: every row moved).
  CHECK(table_content(db) == workload.ledger());
  CHECK(db.scalar("SELECT relkind FROM pg_class WHERE oid = 'orders'::regclass") == "p");
  if (strategy == "copy") {
    CHECK(db.count("SELECT count(*) FROM ((TABLE orders EXCEPT TABLE orders_retired) UNION ALL"
                   " (TABLE orders_retired EXCEPT TABLE orders)) d") == 0);
  } else {
    CHECK(db.count("SELECT count(*) FROM orders_retired") == 0);
  }
  CHECK(db.scalar("SELECT phase || ' ' || swaps FROM partop_migrations") == "Swapped 3");
  // Index names follow the table's name.
  CHECK(db.scalar("SELECT indrelid::regclass::text FROM pg_index"
                  " WHERE indexrelid = 'orders_pkey'::regclass") == "orders");
  CHECK(db.scalar("SELECT indrelid::regclass::text FROM pg_index"
                  " WHERE indexrelid = 'orders_pkey_retired'::regclass") == "orders_retired");
  // No statement of the application waited longer than the swap's lock timeout and a margin.
  CHECK(workload.longest() < std::chrono::milliseconds(1000 + 4000));
  // An update by primary key finds an index on every partition.
  pqxx::connection explain(db.dsn());
  pqxx::nontransaction tx(explain);
  tx.exec("SET enable_seqscan = off");
  const pqxx::result plan = tx.exec("EXPLAIN UPDATE orders SET amount = 1 WHERE id = 5");
  CHECK(plan.size() > 25);  // one line at least per partition
  for (const auto& line : plan)
    CHECK(line[0].as<std::string>().find("Seq Scan") == std::string::npos);
}

}  // namespace

TEST_CASE("copy: migrate, swap, roll back and swap again under a live workload, nothing lost") {
  migrate_under_workload("copy");
}

TEST_CASE("move: migrate, swap, roll back and swap again under a live workload, nothing lost") {
  migrate_under_workload("move");
}

TEST_CASE("a session holding the table makes the swap back off, then it goes through") {
  TestDatabase db;
  create_orders(db);
  pqxx::connection holder(db.dsn());
  auto reader = std::make_unique<pqxx::work>(holder);
  // Copy everything first with the target still Original: nothing to swap yet.
  Outcome outcome = apply_migration(db, make_migration(kSpec));
  REQUIRE_MESSAGE(outcome.ready(), reason_of(outcome));
  outcome = apply_migration(db, make_migration(std::string(kSpec) + "  target: Original\n"));
  REQUIRE_MESSAGE(outcome.ready(), reason_of(outcome));
  reader->exec("SELECT count(*) FROM orders");  // holds ACCESS SHARE until the transaction ends
  outcome = apply_migration(db, make_migration(kSpec));
  CHECK(outcome.ready_reason() == "LockTimeout");
  CHECK(outcome.retry_with_backoff);
  CHECK(outcome.migration->phase == "RolledBack");
  reader->commit();
  reader.reset();
  outcome = apply_migration(db, make_migration(kSpec));
  REQUIRE_MESSAGE(outcome.ready(), reason_of(outcome));
  CHECK(outcome.migration->phase == "Swapped");
}

namespace {

// partop killed (as by SIGKILL) at each of `points` in turn, each on a fresh table; a fresh run
// must reach the target with the table's content unchanged.
void crash_and_resume(const std::string& strategy, const std::vector<std::string>& points) {
  const std::string file = write_temp_file(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionMigration\nmetadata: {name: orders}\n"
      "spec:\n" +
      std::string(kSpec) + "  strategy: " + strategy + "\n");
  constexpr const char* kChecksum =
      "SELECT count(*) || ':' || count(DISTINCT id) || ':' ||"
      " sum(hashtext(id::text || created_at::text || amount::text)) FROM orders";
  for (const std::string& point : points) {
    CAPTURE(point);
    TestDatabase db;
    create_orders(db);
    const std::string before = db.scalar(kChecksum);
    const CommandResult crashed = run_command(PARTOP_BIN, {"apply", "-f", file, "--dsn", db.dsn()},
                                              {"PARTOP_CRASH_AT=" + point});
    CHECK_MESSAGE(crashed.exit_code == 137, crashed.output);
    CHECK(db.scalar(kChecksum) == before);
    const CommandResult recovered =
        run_command(PARTOP_BIN, {"apply", "-f", file, "--dsn", db.dsn()});
    CHECK_MESSAGE(recovered.exit_code == 0, recovered.output);
    CHECK(db.scalar(kChecksum) == before);
    CHECK(db.scalar("SELECT relkind FROM pg_class WHERE oid = 'orders'::regclass") == "p");
    // Copy: the retired table equals the table. Move: it is empty.
    CHECK(
        db.count(strategy == "copy"
                     ? "SELECT count(*) FROM ((TABLE orders EXCEPT TABLE orders_retired) UNION ALL"
                       " (TABLE orders_retired EXCEPT TABLE orders)) d"
                     : "SELECT count(*) FROM orders_retired") == 0);
    const CommandResult again = run_command(PARTOP_BIN, {"apply", "-f", file, "--dsn", db.dsn()});
    CHECK(again.output.find("applied:") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("copy: partop killed at any step resumes with no loss and no duplicate") {
  crash_and_resume(
      "copy", {"before-commit:prepare-migration", "after-commit:prepare-migration",
               "after-commit:create-partition#3", "before-commit:start-sync",
               "after-commit:start-sync", "before-commit:copy-batch#3", "after-commit:copy-batch#2",
               "before-commit:swap", "after-commit:swap"});
}

TEST_CASE("move: partop killed at any step resumes with no loss and no duplicate") {
  crash_and_resume(
      "move", {"before-commit:start-sync", "after-commit:start-sync", "before-commit:copy-batch#3",
               "after-commit:copy-batch#2", "before-commit:swap", "after-commit:swap"});
}

TEST_CASE("a PartitionPolicy on a migrating table waits, and takes over once it is finalized") {
  TestDatabase db;
  create_orders(db);
  const Policy policy = make_policy("  table: orders\n  interval: monthly\n  premake: 2\n");
  Outcome outcome = apply_migration(db, make_migration(kSpec));
  REQUIRE_MESSAGE(outcome.ready(), reason_of(outcome));
  const Outcome waiting = apply_policy(db, policy);
  CHECK(waiting.ready_reason() == "MigrationInProgress");
  CHECK(waiting.condition("Stalled")->status == "False");

  outcome = apply_migration(db, make_migration(std::string(kSpec) + "  finalize: true\n"));
  REQUIRE_MESSAGE(outcome.ready(), reason_of(outcome));
  CHECK(outcome.migration->phase == "Finalized");
  CHECK(db.count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'partop\\_sync%'") == 0);
  CHECK(db.scalar("SELECT relkind FROM pg_class WHERE oid = 'orders_retired'::regclass") == "r");
  // No longer synced: a row written now reaches the partitioned table only.
  db.exec("INSERT INTO orders (created_at, amount) VALUES (now(), 7)");
  CHECK(db.count("SELECT count(*) FROM orders") ==
        db.count("SELECT count(*) FROM orders_retired") + 1);
  const Outcome maintained = apply_policy(db, policy);
  CHECK_MESSAGE(maintained.ready(), maintained.condition("Ready")->message);
  // A finalized migration keeps its end state: flipping the target is refused.
  outcome = apply_migration(db, make_migration(std::string(kSpec) + "  target: Original\n"));
  CHECK(outcome.ready_reason() == "MigrationFinalized");
}

TEST_CASE("the operator's reconcile copies for one bounded slice, then asks to continue") {
  TestDatabase db;
  create_orders(db);
  static const SystemClock clock;
  const Migration migration = make_migration(kSpec);
  const auto session = open_pg_session(db.dsn(), migration.spec.guards.lock_timeout);
  const MigrationReconciler sliced(clock, {}, std::chrono::milliseconds{1});
  Outcome outcome = sliced.reconcile(*session, migration, ReconcileMode::kApply);
  CHECK(outcome.more_work);
  CHECK_FALSE(outcome.ready());
  CHECK(outcome.migration->phase == "Copying");
  CHECK(outcome.migration->rows_copied == 2000);
  CHECK(outcome.condition("Reconciling")->status == "True");
  int slices = 1;
  while (outcome.more_work && slices < 50) {
    outcome = sliced.reconcile(*session, migration, ReconcileMode::kApply);
    ++slices;
  }
  REQUIRE_MESSAGE(outcome.ready(), reason_of(outcome));
  CHECK(slices >= 10);  // 20,000 rows in batches of 2,000
  CHECK(outcome.migration->phase == "Swapped");
}

TEST_CASE("partop killed mid-batch and mid-swap while the application writes: it never notices") {
  TestDatabase db;
  create_orders(db);
  const std::string app = db.name() + "_app";
  db.exec("CREATE ROLE " + app + " LOGIN");
  db.exec("GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO " + app);
  db.exec("GRANT USAGE ON SEQUENCE orders_id_seq TO " + app);
  const std::string file = write_temp_file(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionMigration\nmetadata: {name: orders}\n"
      "spec:\n" +
      std::string(kSpec));
  LedgerWorkload workload(dsn_as(db, app), "orders", table_content(db), 7);
  for (const std::string point : {"before-commit:copy-batch#4", "before-commit:swap"}) {
    CAPTURE(point);
    workload.wait_for_operations(100);
    const CommandResult crashed = run_command(PARTOP_BIN, {"apply", "-f", file, "--dsn", db.dsn()},
                                              {"PARTOP_CRASH_AT=" + point});
    CHECK_MESSAGE(crashed.exit_code == 137, crashed.output);
  }
  workload.wait_for_operations(100);
  const CommandResult recovered = run_command(PARTOP_BIN, {"apply", "-f", file, "--dsn", db.dsn()});
  CHECK_MESSAGE(recovered.exit_code == 0, recovered.output);
  workload.wait_for_operations(200);
  workload.stop();
  CHECK(workload.violations() == std::vector<std::string>{});
  CHECK(table_content(db) == workload.ledger());
  CHECK(db.scalar("SELECT relkind FROM pg_class WHERE oid = 'orders'::regclass") == "p");
  CHECK(db.count("SELECT count(*) FROM ((TABLE orders EXCEPT TABLE orders_retired) UNION ALL"
                 " (TABLE orders_retired EXCEPT TABLE orders)) d") == 0);
}

TEST_CASE("after the swap the application keeps its unique violations, COPY and its ids") {
  TestDatabase db;
  create_orders(db);
  const Outcome outcome = apply_migration(db, make_migration(kSpec));
  REQUIRE_MESSAGE(outcome.ready(), reason_of(outcome));
  pqxx::connection app(db.dsn());
  // The same id with another partition key: the partitioned table alone would accept it (its key
  // is unique per partition); the synced original refuses it, so the application still gets
  // its unique violation.
  {
    pqxx::work tx(app);
    CHECK_THROWS_AS(tx.exec("INSERT INTO orders (id, created_at, amount) SELECT id, created_at -"
                            " interval '400 days', 1 FROM orders WHERE id = 5"),
                    pqxx::unique_violation);
  }
  {
    pqxx::work tx(app);
    pqxx::stream_to stream(tx, "orders", std::vector<std::string>{"created_at", "amount"});
    stream << std::make_tuple(std::string("2026-11-30 10:00:00+00"), 11);
    stream << std::make_tuple(std::string("2026-11-30 11:00:00+00"), 12);
    stream.complete();
    tx.commit();
  }
  // Ids keep coming from the same sequence: the two copied rows continue after the 20,000.
  CHECK(
      db.scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM orders WHERE amount IN (11, 12)"
                " AND id > 20000") == "20001,20002");
  CHECK(db.count("SELECT count(*) FROM orders_retired WHERE id > 20000") == 2);
}

TEST_CASE("the partitioned table and every partition keep the table's replica identity") {
  TestDatabase db;
  create_orders(db);
  // Logical replication reads the identity of the partition a row is in, and PostgreSQL does not
  // pass a parent's down: FULL must reach every partition, not only the parent.
  db.exec("ALTER TABLE orders REPLICA IDENTITY FULL");
  const Outcome outcome = apply_migration(db, make_migration(kSpec));
  REQUIRE_MESSAGE(outcome.ready(), reason_of(outcome));
  CHECK(db.scalar("SELECT relreplident FROM pg_class WHERE oid = 'orders'::regclass") == "f");
  CHECK(db.count("SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                 " WHERE i.inhparent = 'orders'::regclass AND c.relreplident <> 'f'") == 0);
  CHECK(db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'orders'::regclass") > 20);

  // An identity index that names the partition key is carried as it is and stays the identity.
  TestDatabase other;
  other.exec(R"(
    CREATE TABLE orders (id bigint NOT NULL, created_at timestamptz NOT NULL, amount bigint);
    CREATE UNIQUE INDEX orders_id_created_at ON orders (id, created_at);
    ALTER TABLE orders REPLICA IDENTITY USING INDEX orders_id_created_at;
    INSERT INTO orders SELECT i, now() - i * interval '1 hour', i FROM generate_series(1, 500) i;
  )");
  const Outcome carried = apply_migration(
      other,
      make_migration(
          "  table: orders\n  partitionKey: created_at\n  interval: monthly\n  premake: 2\n"));
  REQUIRE_MESSAGE(carried.ready(), reason_of(carried));
  CHECK(other.scalar("SELECT i.indexrelid::regclass::text FROM pg_index i"
                     " WHERE i.indrelid = 'orders'::regclass AND i.indisreplident") ==
        "orders_id_created_at");
}

TEST_CASE("a column added during a migration stops every step that would lose its values") {
  TestDatabase db;
  create_orders(db);
  REQUIRE(apply_migration(db, make_migration(kSpec)).ready());
  // The partitioned table is in use; the owner adds a column to it.
  db.exec("ALTER TABLE orders ADD COLUMN note text");
  db.exec("UPDATE orders SET note = 'kept' WHERE id = 5");
  CHECK(apply_migration(db, make_migration(kSpec)).ready());  // at the target: nothing to carry

  // Rolling back would put the table without the column in use: refused, nothing done.
  const Migration back = make_migration(std::string(kSpec) + "  target: Original\n");
  const Outcome refused = apply_migration(db, back);
  CHECK_FALSE(refused.ready());
  CHECK(refused.condition("Stalled")->reason == "ColumnsChanged");
  CHECK(refused.condition("Stalled")->message.find(
            "column(s) note of public.orders are not in public.orders_retired") == 0);
  CHECK(refused.actions_taken.empty());
  CHECK(db.scalar("SELECT relkind FROM pg_class WHERE oid = 'orders'::regclass") == "p");

  // Dropped again, the rollback goes through.
  db.exec("ALTER TABLE orders DROP COLUMN note");
  const Outcome rolled_back = apply_migration(db, back);
  CHECK_MESSAGE(rolled_back.ready(), reason_of(rolled_back));
  CHECK(db.scalar("SELECT relkind FROM pg_class WHERE oid = 'orders'::regclass") == "r");
}

}  // namespace partop::testing
