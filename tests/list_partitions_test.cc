// PartitionPolicy.spec.list against a real PostgreSQL: a partition (and with an interval, a range
// sub-tree) per value of a source table, created before the value's first write can need it,
// rows waiting in a DEFAULT at either level moved with nothing lost while the application keeps
// writing, retention per tenant, and one tenant's trouble left to that tenant.
#include <doctest/doctest.h>

#include <pqxx/pqxx>

#include <fstream>
#include <iterator>

#include "reconcilers/partition/pg_session.h"
#include "tests/support/load.h"
#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

// A role that may read events, so that grants can be checked on what partop creates.
std::string reader(const TestDatabase& db) {
  return db.name() + "_reader";
}

void create_tenants_and_events(const TestDatabase& db, int tenants) {
  db.exec(R"(
    CREATE TABLE tenants (id text PRIMARY KEY, active boolean NOT NULL DEFAULT true);
    CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, tenant_id text NOT NULL,
                         event_ts timestamptz NOT NULL, payload text)
      PARTITION BY LIST (tenant_id);
  )");
  db.exec("CREATE ROLE " + reader(db) + "; GRANT SELECT ON events TO " + reader(db));
  db.exec(
      "INSERT INTO tenants (id) SELECT 'tenant' || lpad(i::text, 3, '0') "
      "FROM generate_series(1, " +
      std::to_string(tenants) + ") i");
}

const std::string kPolicy =
    "  table: events\n"
    "  list: {column: tenant_id, valuesFrom: {table: tenants, column: id, where: active}}\n"
    "  timeKey: event_ts\n"
    "  interval: daily\n"
    "  indexes: [{name: events_id_idx, columns: [id]}]\n";

std::string why(const Outcome& outcome) {
  const Condition* ready = outcome.condition("Ready");
  return ready == nullptr ? "no Ready condition" : ready->reason + ": " + ready->message;
}

int64_t leaves_under(const TestDatabase& db, const std::string& table) {
  return db.count("SELECT count(*) FROM pg_partition_tree('" + table +
                  "') WHERE isleaf AND level = 2");
}

}  // namespace

TEST_CASE(
    "50 tenants get their daily sub-trees from an empty parent, and a second run does nothing") {
  TestDatabase db;
  create_tenants_and_events(db, 50);
  db.exec("UPDATE tenants SET active = false WHERE id = 'tenant050'");
  const Policy policy = make_policy(kPolicy + "  premake: 7\n");
  const Outcome outcome = apply_policy(db, policy);
  REQUIRE_MESSAGE(outcome.ready(), why(outcome));
  REQUIRE(outcome.tenants);
  CHECK(outcome.tenants->total == 49);
  CHECK(outcome.tenants->ready == 49);
  // 49 tenant partitions and the list DEFAULT; under each, today + 7 days ahead and a DEFAULT.
  CHECK(db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass") == 50);
  CHECK(leaves_under(db, "events") == 49 * 9);
  CHECK(db.count("SELECT count(*) FROM pg_partition_tree('events') WHERE relid::text LIKE "
                 "'events_tenant050%'") == 0);
  CHECK(outcome.figures.partition_count == 49 * 8);
  CHECK(outcome.figures.buffered_until.has_value());
  // The declared index is valid on the parent, so every tenant and every leaf has it attached.
  CHECK(db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_id_idx'::regclass") ==
        "t");
  CHECK(db.count("SELECT count(*) FROM pg_partition_tree('events_id_idx')") == 1 + 50 + 49 * 9);
  // Owned by the table's owner, with its grants, at both levels.
  CHECK(db.scalar("SELECT has_table_privilege('" + reader(db) +
                  "', 'events_tenant007', 'SELECT') AND has_table_privilege('" + reader(db) +
                  "', 'events_tenant007_p" +
                  "' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD'), "
                  "'SELECT')") == "t");

  db.reset_ddl_log();
  const Outcome again = apply_policy(db, policy);
  CHECK_MESSAGE(again.ready(), why(again));
  CHECK(again.actions_taken.empty());
  CHECK(db.ddl_count() == 0);

  // A new tenant row: the next reconcile gives it its tree, before any of its rows exists.
  db.exec("INSERT INTO tenants (id) VALUES ('newco')");
  const Outcome with_newco = apply_policy(db, policy);
  CHECK_MESSAGE(with_newco.ready(), why(with_newco));
  CHECK(with_newco.tenants->total == 50);
  CHECK(leaves_under(db, "events_newco") == 0);  // its leaves are level 1 of its own tree
  CHECK(db.count("SELECT count(*) FROM pg_partition_tree('events_newco') WHERE isleaf") == 9);
  db.exec("INSERT INTO events (tenant_id, event_ts) VALUES ('newco', now())");
  CHECK(db.count("SELECT count(*) FROM ONLY events_newco_default") == 0);
}

TEST_CASE("rows waiting in both DEFAULTs are moved while the application writes, nothing lost") {
  TestDatabase db;
  create_tenants_and_events(db, 3);
  const Policy policy = make_policy(kPolicy + "  premake: 2\n");
  REQUIRE(apply_policy(db, policy).ready());
  // Rows for a tenant the source does not name yet land in the list DEFAULT, spread over the
  // last ten days; rows for an existing tenant far in the past land in its sub-tree's DEFAULT.
  db.exec(R"(
    INSERT INTO events (tenant_id, event_ts, payload)
      SELECT 'latecomer', now() - (i % 10) * interval '1 day', 'seed-' || i
      FROM generate_series(1, 20000) i;
    INSERT INTO events (tenant_id, event_ts, payload)
      SELECT 'tenant002', now() - interval '20 days' - (i % 3) * interval '1 day', 'old-' || i
      FROM generate_series(1, 3000) i;
  )");
  REQUIRE(db.count("SELECT count(*) FROM ONLY events_default") == 20000);
  REQUIRE(db.count("SELECT count(*) FROM ONLY events_tenant002_default") == 3000);
  const std::string checksum =
      "SELECT count(*) || ':' || sum(hashtext(id::text || tenant_id || event_ts::text || "
      "payload)) FROM events WHERE payload LIKE 'seed-%' OR payload LIKE 'old-%'";
  const std::string before = db.scalar(checksum);

  db.exec("INSERT INTO tenants (id) VALUES ('latecomer')");
  StatementLoop writer(db.dsn(),
                       "INSERT INTO events (tenant_id, event_ts, payload) VALUES "
                       "('latecomer', now(), 'live'), ('tenant002', now(), 'live')");
  const Outcome outcome = apply_policy(db, policy);
  writer.stop();
  CHECK_MESSAGE(outcome.ready(), why(outcome));
  CHECK(outcome.rows_drained >= 20000 + 3000);
  CHECK(db.count("SELECT count(*) FROM ONLY events_default") == 0);
  CHECK(db.count("SELECT count(*) FROM ONLY events_latecomer_default") == 0);
  CHECK(db.count("SELECT count(*) FROM ONLY events_tenant002_default") == 0);
  CHECK(db.scalar(checksum) == before);
  CHECK(db.count(
            "SELECT count(*) FROM (SELECT id FROM events GROUP BY id HAVING count(*) > 1) d") == 0);
  CHECK_MESSAGE(writer.failed() == 0, writer.last_error());
  CHECK(writer.succeeded() > 0);
  CHECK(db.count("SELECT count(*) FROM events WHERE payload = 'live'") == 2 * writer.succeeded());
  MESSAGE("writer: " << writer.succeeded() << " statements, longest " << writer.longest().count()
                     << " ms");
}

TEST_CASE(
    "retention applies per tenant sub-tree, and a value gone from the source is only reported") {
  TestDatabase db;
  create_tenants_and_events(db, 2);
  const Policy policy = make_policy(kPolicy + "  premake: 1\n  retention: {keep: 3 days}\n");
  REQUIRE(apply_policy(db, policy).ready());
  // An old day made by hand under one tenant.
  db.exec(R"(
    CREATE TABLE events_tenant001_old PARTITION OF events_tenant001
      FOR VALUES FROM (date_trunc('day', now(), 'UTC') - interval '30 days')
                   TO (date_trunc('day', now(), 'UTC') - interval '29 days');
    UPDATE tenants SET active = false WHERE id = 'tenant002';
  )");
  const Outcome outcome = apply_policy(db, policy);
  CHECK_MESSAGE(outcome.ready(), why(outcome));
  CHECK(db.scalar("SELECT to_regclass('events_tenant001_old') IS NULL") == "t");
  CHECK(db.scalar("SELECT to_regclass('events_tenant002') IS NOT NULL") == "t");
  CHECK(outcome.tenants->values_without_source == 1);
  bool reported = false;
  for (const auto& finding : outcome.findings) reported |= finding.reason == "ValuesWithoutSource";
  CHECK(reported);
}

TEST_CASE("a lock held on one tenant's sub-tree leaves the other tenants converging") {
  TestDatabase db;
  create_tenants_and_events(db, 3);
  REQUIRE(apply_policy(db, make_policy(kPolicy + "  premake: 1\n")).ready());
  const Policy longer = make_policy(kPolicy + "  premake: 4\n  guards: {lockTimeout: 300ms}\n");

  pqxx::connection holder(db.dsn());
  pqxx::work holding(holder);
  holding.exec("LOCK TABLE ONLY events_tenant002 IN SHARE ROW EXCLUSIVE MODE");
  const Outcome blocked = apply_policy(db, longer);
  CHECK_FALSE(blocked.ready());
  CHECK(blocked.ready_reason() == "TenantsNotReady");
  REQUIRE(blocked.tenants);
  CHECK(blocked.tenants->ready == 2);
  REQUIRE(blocked.tenants->not_ready.size() == 1);
  CHECK(blocked.tenants->not_ready[0].rfind("tenant002: Lock", 0) == 0);
  CHECK(blocked.retry_with_backoff);
  CHECK(
      db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_tenant001'::regclass") ==
      5 + 1);
  CHECK(
      db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_tenant002'::regclass") ==
      2 + 1);
  holding.commit();

  const Outcome after = apply_policy(db, longer);
  CHECK_MESSAGE(after.ready(), why(after));
  CHECK(
      db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_tenant002'::regclass") ==
      5 + 1);
}

TEST_CASE(
    "a hand-made partition conflicting with one tenant's layout leaves the others converging") {
  TestDatabase db;
  create_tenants_and_events(db, 3);
  REQUIRE(apply_policy(db, make_policy(kPolicy + "  premake: 1\n")).ready());
  // Two days in one partition where the policy wants one per day, under one tenant only.
  db.exec(R"(
    CREATE TABLE events_tenant003_hand PARTITION OF events_tenant003
      FOR VALUES FROM (date_trunc('day', now(), 'UTC') + interval '2 days')
                   TO (date_trunc('day', now(), 'UTC') + interval '4 days');
  )");
  const Outcome outcome = apply_policy(db, make_policy(kPolicy + "  premake: 4\n"));
  CHECK_FALSE(outcome.ready());
  CHECK(outcome.ready_reason() == "TenantsNotReady");
  REQUIRE(outcome.tenants);
  CHECK(outcome.tenants->ready == 2);
  REQUIRE(outcome.tenants->not_ready.size() == 1);
  CHECK(outcome.tenants->not_ready[0].rfind("tenant003: ", 0) == 0);
  MESSAGE(outcome.tenants->not_ready[0]);
  CHECK(
      db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_tenant001'::regclass") ==
      5 + 1);
  CHECK(db.scalar("SELECT to_regclass('events_tenant003_hand') IS NOT NULL") == "t");  // untouched
}

TEST_CASE("list leaves without an interval, and what a list policy refuses with no DDL") {
  TestDatabase db;
  db.exec(R"(
    CREATE TABLE orders (id bigint, region text NOT NULL) PARTITION BY LIST (region);
    CREATE TABLE orders_default PARTITION OF orders DEFAULT;
    INSERT INTO orders SELECT i, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'apac' END
      FROM generate_series(1, 1000) i;
  )");
  const Outcome leaves =
      apply_policy(db, make_policy("  table: orders\n  list: {column: region, values: [eu, us]}\n"
                                   "  indexes: [{name: orders_id_idx, columns: [id]}]\n"));
  CHECK_MESSAGE(leaves.ready(), why(leaves));
  CHECK(db.count("SELECT count(*) FROM ONLY orders_eu") == 500);
  CHECK(db.count("SELECT count(*) FROM ONLY orders_us") == 0);
  CHECK(db.count("SELECT count(*) FROM ONLY orders_default") == 500);  // apac: not named
  CHECK(db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_id_idx'::regclass") ==
        "t");

  db.reset_ddl_log();
  const Outcome missing = apply_policy(
      db, make_policy("  table: orders\n  list: {column: region, valuesFrom: {table: regions, "
                      "column: code}}\n"));
  CHECK(missing.ready_reason() == "ValuesSourceNotFound");
  const Outcome bad_value = apply_policy(
      db, make_policy("  table: orders\n  list: {column: region, values: [eu]}\n  timeKey: id\n"
                      "  interval: daily\n"));
  CHECK(bad_value.ready_reason() == "InvalidSpec");
  CHECK(why(bad_value).find("spec.timeKey: column id is bigint") != std::string::npos);
  const Outcome wrong_column =
      apply_policy(db, make_policy("  table: orders\n  list: {column: id, values: [1]}\n"));
  CHECK(why(wrong_column) ==
        "InvalidSpec: spec.list.column: public.orders is partitioned by list on region, not id");
  CHECK(db.ddl_count() == 0);
}

TEST_CASE("LISTEN: the documented trigger's notice is heard, and a lost connection is an error") {
  TestDatabase db;
  create_tenants_and_events(db, 1);
  // The trigger the README gives for a source of values.
  std::ifstream trigger(PARTOP_SOURCE_DIR "/examples/list-values-trigger.sql");
  REQUIRE(trigger);
  db.exec(std::string(std::istreambuf_iterator<char>(trigger), {}));
  PgNotificationConnector connector;
  const auto listener = connector.listen(db.dsn(), std::string(kListValuesChannel));
  CHECK_FALSE(listener->wait(std::chrono::milliseconds(100)));
  db.exec("INSERT INTO tenants (id) VALUES ('newco')");
  CHECK(listener->wait(std::chrono::seconds(10)) == std::optional<std::string>("public.tenants"));
  CHECK_FALSE(listener->wait(std::chrono::milliseconds(100)));  // one notice per statement

  db.exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
      " WHERE application_name = 'partop-listener' AND datname = current_database()");
  bool lost = false;
  for (int i = 0; i < 20 && !lost; ++i) {
    try {
      listener->wait(std::chrono::milliseconds(250));
    } catch (const DatabaseError& error) {
      lost = error.is_connection_failure();
    }
  }
  CHECK(lost);
}

}  // namespace partop::testing
