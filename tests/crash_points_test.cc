// Reliability: partop killed abruptly at every named crash point (PARTOP_CRASH_AT, test-only)
// leaves no row lost or duplicated and nothing half-built, and a fresh run converges.
#include <doctest/doctest.h>

#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

constexpr const char* kChecksum =
    "SELECT count(*) || ':' || coalesce(sum(hashtext(id::text || created_at::text)), 0) FROM "
    "events";
// Tables that look like partop's but are not attached (a half-finished create or drain).
constexpr const char* kOrphans =
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'public' AND c.relname LIKE 'events\\_%' AND c.relkind = 'r'"
    " AND NOT c.relispartition";
constexpr const char* kInvalidIndexes = "SELECT count(*) FROM pg_index WHERE NOT indisvalid";
// Indexes on partitions not attached to a parent index.
constexpr const char* kUnattachedIndexes =
    "SELECT count(*) FROM pg_index ix JOIN pg_inherits t ON t.inhrelid = ix.indrelid"
    " WHERE t.inhparent = 'events'::regclass"
    " AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = ix.indexrelid)";

// A table needing every kind of action: DEFAULT rows over five past days (drains), an expired
// partition (retention), a partition with data lacking the declared index (concurrent build),
// and forward partitions (creates).
void create_world(const TestDatabase& db) {
  create_events_with_today_and_expired(db, 400);
  db.exec(R"(
    INSERT INTO events SELECT i, date_trunc('day', now(), 'UTC') - interval '5 days' + i * interval '20 seconds'
      FROM generate_series(1, 25000) i;
  )");
}

constexpr const char* kPolicy = R"(apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata: {name: events}
spec:
  table: events
  interval: daily
  premake: 3
  indexes: [{name: events_id_idx, columns: [id]}]
  retention: {keep: 30 days}
)";

}  // namespace

TEST_CASE("every crash point leaves a state from which a fresh run converges") {
  const std::string policy_file = write_temp_file(kPolicy);
  for (const std::string point :
       {"before-commit:create-parent-index", "after-commit:create-parent-index",
        "before-commit:create-partition", "after-commit:create-partition",
        "before-commit:drain-default#3", "after-commit:drain-default#2",
        "after-commit:build-partition-index#2", "before-commit:attach-partition-index#2",
        "before-commit:drop-partition", "after-commit:drop-partition"}) {
    CAPTURE(point);
    TestDatabase db;
    create_world(db);
    const std::string before = db.scalar(kChecksum);
    const CommandResult crashed = run_command(
        PARTOP_BIN, {"apply", "-f", policy_file, "--dsn", db.dsn()}, {"PARTOP_CRASH_AT=" + point});
    CHECK_MESSAGE(crashed.exit_code == 137, crashed.output);
    CHECK(db.scalar(kChecksum) == before);
    CHECK(db.count(kOrphans) == 0);

    const CommandResult recovered =
        run_command(PARTOP_BIN, {"apply", "-f", policy_file, "--dsn", db.dsn()});
    CHECK_MESSAGE(recovered.exit_code == 0, recovered.output);
    CHECK(db.scalar(kChecksum) == before);
    CHECK(db.count(kOrphans) == 0);
    CHECK(db.count(kInvalidIndexes) == 0);
    CHECK(db.count(kUnattachedIndexes) == 0);
    CHECK(db.count("SELECT count(*) FROM ONLY events_default") == 0);
    CHECK(db.scalar("SELECT to_regclass('events_expired')").empty());
    const CommandResult again =
        run_command(PARTOP_BIN, {"apply", "-f", policy_file, "--dsn", db.dsn()});
    CHECK(again.output.find("applied:") == std::string::npos);
  }
}

}  // namespace partop::testing
