// partop as a least-privilege role: what it creates belongs to the table's owner and carries the
// parent's grants, so the owner's next ALTER TABLE works and a role that could read a hand-made
// partition can read a partop-made one; a role without the needed membership is told so
// (InsufficientPrivilege, Stalled), not retried as an outage.
#include <doctest/doctest.h>

#include "reconcilers/document/yaml_documents.h"
#include "reconcilers/migration/migration_parser.h"
#include "reconcilers/migration/migration_reconciler.h"
#include "reconcilers/partition/pg_session.h"
#include "reconcilers/partition/reconciler.h"
#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

Outcome apply_as(const TestDatabase& db, const std::string& role, const Policy& policy) {
  static const SystemClock clock;
  const auto session = open_pg_session(dsn_as(db, role), policy.spec.guards.lock_timeout);
  return PartitionReconciler(clock).reconcile(*session, policy, ReconcileMode::kApply);
}

// Roles are cluster-wide: named after the test's database so tests never share them.
struct Roles {
  explicit Roles(const TestDatabase& db)
      : owner(db.name() + "_owner"),
        reader(db.name() + "_reader"),
        partop(db.name() + "_partop"),
        outsider(db.name() + "_outsider"),
        db_(db) {
    db.exec("CREATE ROLE " + owner + " NOLOGIN");
    db.exec("CREATE ROLE " + reader + " NOLOGIN");
    // Exactly what the README asks for: membership in the owning role, and pg_monitor.
    db.exec("CREATE ROLE " + partop + " LOGIN IN ROLE " + owner + ", pg_monitor");
    db.exec("CREATE ROLE " + outsider + " LOGIN IN ROLE pg_monitor");
    db.exec("GRANT CREATE ON SCHEMA public TO " + owner);
    // The test's DDL log is written by an event trigger as whoever runs the DDL.
    db.exec("GRANT INSERT ON partop_test_ddl_log TO PUBLIC");
  }
  ~Roles() {
    for (const auto& role : {partop, outsider, reader, owner}) {
      db_.exec("DROP OWNED BY " + role + " CASCADE");
      db_.exec("DROP ROLE " + role);
    }
  }
  std::string owner, reader, partop, outsider;
  const TestDatabase& db_;
};

}  // namespace

TEST_CASE("partitions partop creates belong to the owner, carry the grants and replica identity") {
  TestDatabase db;
  Roles roles(db);
  db.exec("SET ROLE " + roles.owner +
          ";"
          "CREATE TABLE events (id bigint, created_at timestamptz NOT NULL, payload text)"
          "  PARTITION BY RANGE (created_at);"
          "GRANT SELECT ON events TO " +
          roles.reader +
          ";"
          "GRANT UPDATE (payload) ON events TO " +
          roles.reader +
          ";"
          "GRANT INSERT ON events TO PUBLIC;"
          "ALTER TABLE events REPLICA IDENTITY FULL;"
          "RESET ROLE");
  const Policy policy = make_policy(
      "  table: events\n  interval: daily\n  premake: 2\n"
      "  indexes: [{name: events_id_idx, columns: [id]}]\n");
  const Outcome outcome = apply_as(db, roles.partop, policy);
  REQUIRE_MESSAGE(outcome.ready(), outcome.condition("Ready")->message);

  const auto partitions = db.partitions("events");
  REQUIRE(partitions.size() == 4);  // three days and DEFAULT
  for (const auto& partition : partitions) {
    CAPTURE(partition);
    CHECK(db.scalar("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = '" + partition +
                    "'") == roles.owner);
    CHECK(db.scalar("SELECT has_table_privilege('" + roles.reader + "', '" + partition +
                    "', 'SELECT')") == "t");
    CHECK(db.scalar("SELECT has_table_privilege('" + roles.reader + "', '" + partition +
                    "', 'INSERT')") == "t");  // through PUBLIC
    CHECK(db.scalar("SELECT has_column_privilege('" + roles.reader + "', '" + partition +
                    "', 'payload', 'UPDATE')") == "t");
    CHECK(db.scalar("SELECT has_column_privilege('" + roles.reader + "', '" + partition +
                    "', 'id', 'UPDATE')") == "f");
    CHECK(db.scalar("SELECT relreplident FROM pg_class WHERE relname = '" + partition + "'") ==
          "f");
  }
  // Indexes belong to their table's owner.
  CHECK(db.count("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                 " WHERE c.relname LIKE 'events%id_idx' AND c.relowner <> '" +
                 roles.owner + "'::regrole") == 0);
  // The owner's next ALTER TABLE on the parent recurses into every partition.
  db.exec("SET ROLE " + roles.owner + "; ALTER TABLE events ADD COLUMN note text; RESET ROLE");
  // A second run finds nothing to do.
  CHECK(apply_as(db, roles.partop, policy).actions_taken.empty());
}

TEST_CASE("a role that cannot act for the owner is told so, and nothing is half-built") {
  TestDatabase db;
  Roles roles(db);
  db.exec("SET ROLE " + roles.owner +
          ";"
          "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);"
          "RESET ROLE");
  db.exec("GRANT CREATE ON SCHEMA public TO " + roles.outsider);
  db.reset_ddl_log();
  const Outcome outcome =
      apply_as(db, roles.outsider, make_policy("  table: events\n  interval: daily\n"));
  INFO(outcome.condition("Ready")->message);
  CHECK(outcome.ready_reason() == "InsufficientPrivilege");
  REQUIRE(outcome.condition("Stalled") != nullptr);
  CHECK(outcome.condition("Stalled")->status == "True");
  CHECK(outcome.condition("Reconciling")->status == "False");
  CHECK(outcome.condition("Ready")->message.find("permission denied for table events") !=
        std::string::npos);
  CHECK(outcome.condition("Ready")->message.find("membership in the role that owns") !=
        std::string::npos);
  CHECK(db.ddl_count() == 0);  // each step is one transaction: the refused one left nothing
  CHECK(db.partitions("events").empty());
}

TEST_CASE(
    "migrations run with the least privilege a policy needs, and their objects are the owner's") {
  TestDatabase db;
  Roles roles(db);
  static const SystemClock clock;
  for (const std::string strategy : {"copy", "move"}) {
    CAPTURE(strategy);
    const std::string table = "orders_" + strategy;
    db.exec("SET ROLE " + roles.owner + "; CREATE TABLE " + table +
            " (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, amount int);"
            " INSERT INTO " +
            table +
            " (created_at, amount)"
            " SELECT now() - i * interval '1 day', i FROM generate_series(1, 500) i;"
            " GRANT SELECT, INSERT, UPDATE, DELETE ON " +
            table + " TO " + roles.reader +
            ";"
            " GRANT USAGE ON SEQUENCE " +
            table + "_id_seq TO " + roles.reader + "; RESET ROLE");
    const YamlDocuments documents = read_yaml_documents(
        "apiVersion: partop.dev/v1alpha1\nkind: PartitionMigration\nmetadata: {name: m}\n"
        "spec:\n  table: " +
        table +
        "\n  partitionKey: created_at\n  interval: monthly\n"
        "  acceptPerPartitionUniqueness: [" +
        table + "_pkey]\n  strategy: " + strategy + "\n");
    const ParsedMigration parsed = parse_migration(documents.documents.at(0).value);
    REQUIRE_MESSAGE(parsed.ok(), parsed.error_summary());
    const auto session = open_pg_session(dsn_as(db, roles.partop), std::chrono::seconds(2));
    const Outcome outcome = MigrationReconciler(clock, {}, std::chrono::milliseconds{0})
                                .reconcile(*session, *parsed.migration, ReconcileMode::kApply);
    REQUIRE_MESSAGE(outcome.ready(), outcome.condition("Ready")->message);
    // The partitioned table, its partitions and partop's functions belong to the owner; the
    // application role keeps its grants and writes through the name.
    CHECK(db.scalar("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = '" + table +
                    "'::regclass") == roles.owner);
    CHECK(db.count("SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                   " WHERE i.inhparent = '" +
                   table + "'::regclass AND c.relowner <> '" + roles.owner + "'::regrole") == 0);
    CHECK(db.count("SELECT count(*) FROM pg_proc WHERE proname LIKE '" + table +
                   "\\_partop\\_%' AND proowner <> '" + roles.owner + "'::regrole") == 0);
    db.exec("SET ROLE " + roles.reader + "; INSERT INTO " + table +
            " (created_at, amount) VALUES (now(), 1); UPDATE " + table +
            " SET amount = 2 WHERE id = 1; RESET ROLE");
    CHECK(db.count("SELECT count(*) FROM " + table + " WHERE id = 1 AND amount = 2") == 1);
    CHECK(db.count("SELECT count(*) FROM " + table) == 501);
  }
}

}  // namespace partop::testing
