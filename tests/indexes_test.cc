// Declared indexes against a real PostgreSQL: built on every partition without blocking writes,
// and repaired when a concurrent build failed and left an invalid index behind.
#include <doctest/doctest.h>

#include "tests/support/test_database.h"

namespace partop::testing {

TEST_CASE("an index declared later is built on every existing partition and on new ones") {
  TestDatabase db;
  db.exec(
      "CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE "
      "(created_at)");
  const std::string spec = "  table: events\n  interval: daily\n  premake: 2\n";
  REQUIRE(apply_policy(db, make_policy(spec)).ready());
  db.exec("INSERT INTO events SELECT i, now() FROM generate_series(1, 1000) i");

  const Outcome outcome =
      apply_policy(db, make_policy(spec + "  indexes: [{name: events_id_idx, columns: [id]}]\n"));
  REQUIRE_MESSAGE(outcome.ready(), outcome.condition("Ready")->message);
  CHECK(outcome.condition("IndexesValid")->status == "True");
  // Parent index valid, and one attached child per partition (3 ranges + DEFAULT).
  CHECK(db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_id_idx'::regclass") ==
        "t");
  CHECK(db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_id_idx'::regclass") ==
        4);
  CHECK(db.count("SELECT count(*) FROM partop_test_ddl_log WHERE tag = 'CREATE INDEX'") >= 5);
}

TEST_CASE("an invalid index left by a failed concurrent build is rebuilt and attached") {
  TestDatabase db;
  db.exec(
      "CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE "
      "(created_at)");
  const std::string spec = "  table: events\n  interval: daily\n  premake: 1\n";
  REQUIRE(apply_policy(db, make_policy(spec)).ready());
  const std::string today = db.partitions("events").front();
  // Duplicates make the unique concurrent build on today's partition fail.
  db.exec(
      "INSERT INTO events VALUES (1, date_trunc('day', now(), 'UTC')), (1, date_trunc('day', "
      "now(), 'UTC'))");
  const Policy with_unique = make_policy(
      spec + "  indexes: [{name: events_key, columns: [id, created_at], unique: true}]\n");
  Outcome outcome = apply_policy(db, with_unique);
  CHECK_FALSE(outcome.ready());
  CHECK(outcome.ready_reason() == "ActionFailed");
  CHECK(db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = '" + today +
                  "_events_key'::regclass") == "f");
  CHECK(outcome.condition("IndexesValid")->status == "False");

  db.exec("DELETE FROM events WHERE ctid IN (SELECT max(ctid) FROM events)");
  outcome = apply_policy(db, with_unique);
  REQUIRE_MESSAGE(outcome.ready(), outcome.condition("Ready")->message);
  CHECK(outcome.condition("IndexesValid")->status == "True");
  CHECK(db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = '" + today +
                  "_events_key'::regclass") == "t");
  CHECK(db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_key'::regclass") ==
        "t");
}

TEST_CASE("an index whose definition differs from the declaration is reported, not replaced") {
  TestDatabase db;
  db.exec(R"(
    CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
    CREATE INDEX events_id_idx ON events (created_at);
  )");
  const Outcome outcome =
      apply_policy(db, make_policy("  table: events\n  interval: daily\n  indexes: [{name: "
                                   "events_id_idx, columns: [id]}]\n"));
  CHECK(outcome.ready_reason() == "IndexDefinitionMismatch");
  CHECK(db.scalar("SELECT pg_get_indexdef('events_id_idx'::regclass)").find("(created_at)") !=
        std::string::npos);
}

TEST_CASE("a parent index PostgreSQL refuses stops its partition builds: no orphan indexes") {
  TestDatabase db;
  db.exec(
      "CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE "
      "(created_at)");
  const std::string spec = "  table: events\n  interval: daily\n  premake: 1\n";
  REQUIRE(apply_policy(db, make_policy(spec)).ready());
  // The index name is taken by a table in the schema: CREATE INDEX ... ON ONLY fails.
  db.exec("CREATE TABLE events_id_idx (note text)");
  const Outcome outcome =
      apply_policy(db, make_policy(spec + "  indexes: [{name: events_id_idx, columns: [id]}]\n"));
  CHECK(outcome.ready_reason() == "ActionFailed");
  CHECK(outcome.condition("Ready")->message.find("events_id_idx") != std::string::npos);
  CHECK(db.count("SELECT count(*) FROM pg_class WHERE relkind = 'i' AND relname LIKE "
                 "'events_p%_events_id_idx'") == 0);
}

TEST_CASE("a partial index is built on every partition and then matches PostgreSQL's rendering") {
  TestDatabase db;
  db.exec(
      "CREATE TABLE jobs (id bigint, state varchar(20), attempts int, archived boolean,"
      " created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)");
  const Policy policy = make_policy(
      "  table: jobs\n  interval: daily\n  premake: 1\n  indexes:\n"
      "  - {name: jobs_pending, columns: [id], include: [attempts],\n"
      "     where: \"state = 'pending' AND attempts > -1 AND NOT archived\"}\n"
      "  - {name: jobs_recent, columns: [created_at], where: \"created_at > '2026-01-01 "
      "00:00:00+00'\"}\n");
  Outcome outcome = apply_policy(db, policy);
  REQUIRE_MESSAGE(outcome.ready(), outcome.condition("Ready")->message);
  CHECK(db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'jobs_pending'::regclass") ==
        3);
  CHECK(db.scalar("SELECT pg_get_indexdef('jobs_pending'::regclass)").find("WHERE") !=
        std::string::npos);
  // The second apply reads the predicates back as PostgreSQL prints them: same declaration.
  db.reset_ddl_log();
  outcome = apply_policy(db, policy);
  REQUIRE_MESSAGE(outcome.ready(), outcome.condition("Ready")->message);
  CHECK(db.ddl_count() == 0);

  // A different predicate under the same name is reported, not replaced.
  outcome = apply_policy(db, make_policy("  table: jobs\n  interval: daily\n  premake: 1\n"
                                         "  indexes: [{name: jobs_pending, columns: [id], "
                                         "include: [attempts], where: \"state = 'done'\"}]\n"));
  CHECK(outcome.ready_reason() == "IndexDefinitionMismatch");
}

}  // namespace partop::testing

namespace partop::testing {

// What the catalog reader relies on to skip the indexes of a valid parent index's partitions
// (ObservedPartitionIndex): PostgreSQL marks a partitioned index valid only once every partition
// has a valid index attached to it. An invalid index can be attached, and the parent stays
// invalid.
TEST_CASE("a partitioned index is valid only once every partition has a valid index attached") {
  TestDatabase db;
  db.exec(R"(
    CREATE TABLE p (id int, k int) PARTITION BY RANGE (k);
    CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
    CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20);
    INSERT INTO p VALUES (1, 1), (1, 1), (2, 11);
    CREATE UNIQUE INDEX p_id ON ONLY p (id, k);
    CREATE UNIQUE INDEX p2_id ON p2 (id, k);
  )");
  CHECK_THROWS(db.exec("CREATE UNIQUE INDEX CONCURRENTLY p1_id ON p1 (id, k)"));
  const auto valid = [&](const std::string& index) {
    return db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = '" + index +
                     "'::regclass");
  };
  CHECK(valid("p1_id") == "f");
  db.exec("ALTER INDEX p_id ATTACH PARTITION p2_id");
  CHECK(valid("p_id") == "f");
  db.exec("ALTER INDEX p_id ATTACH PARTITION p1_id");  // accepted, though invalid
  CHECK(db.count("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'p1_id'::regclass") == 1);
  CHECK(valid("p_id") == "f");
  db.exec("DELETE FROM p1 WHERE ctid = (SELECT min(ctid) FROM p1)");
  db.exec("REINDEX INDEX p1_id");
  CHECK(valid("p1_id") == "t");
  CHECK(valid("p_id") == "f");  // REINDEX validates the partition's index, not the parent's
  db.exec("ALTER INDEX p_id ATTACH PARTITION p1_id");  // attaching again checks the parent
  CHECK(valid("p_id") == "t");
}

}  // namespace partop::testing
