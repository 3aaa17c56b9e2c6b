#include "reconcilers/partition/planner.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "tests/support/observed_tables.h"

namespace partop {
namespace {

const TimePoint kNow = TimePoint{} + std::chrono::seconds(epoch_seconds(2026, 11, 21, 7, 30));

PolicySpec daily_spec() {
  PolicySpec spec;
  spec.table = {"public", "events"};
  spec.interval.unit = TimeUnit::kDay;
  spec.interval.text = "daily";
  spec.premake = 3;
  return spec;
}

ObservedTable partitioned_table() {
  ObservedTable table =
      testing::range_partitioned_table({"public", "events"}, "created_at",
                                       "timestamp with time zone", {"id", "created_at", "payload"});
  table.partitions.push_back({{"public", "events_default"}, true});
  return table;
}

void add_day(ObservedTable& table, int month, int day, std::string name = "") {
  const KeyValue lower = epoch_seconds(2026, month, day);
  if (name.empty()) name = partition_name("events", PartitionGrid::time(TimeUnit::kDay), lower);
  table.partitions.insert(table.partitions.end() - 1,
                          ObservedPartition{{"public", name}, false, lower, lower + 86400});
}

std::vector<ActionKind> kinds(const Plan& plan) {
  std::vector<ActionKind> out;
  for (const auto& action : plan.actions) out.push_back(action.kind);
  return out;
}

const Finding* find(const Plan& plan, const std::string& reason) {
  for (const auto& finding : plan.findings) {
    if (finding.reason == reason) return &finding;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("an empty table gets its DEFAULT and the forward buffer, oldest first") {
  ObservedTable table = partitioned_table();
  table.partitions.clear();
  const Plan plan = plan_reconcile(daily_spec(), table, {}, kNow);
  REQUIRE(plan.actions.size() == 5);
  CHECK(plan.actions[0].kind == ActionKind::kCreateDefault);
  CHECK(plan.actions[0].statements[0] ==
        "CREATE TABLE \"public\".\"events_default\" (LIKE \"public\".\"events\" INCLUDING DEFAULTS "
        "INCLUDING CONSTRAINTS INCLUDING INDEXES INCLUDING STORAGE INCLUDING COMMENTS INCLUDING "
        "STATISTICS INCLUDING GENERATED)");
  const std::vector<std::string> expected_names = {"events_p20261121", "events_p20261122",
                                                   "events_p20261123", "events_p20261124"};
  for (size_t i = 0; i < expected_names.size(); ++i) {
    const Action& action = plan.actions[i + 1];
    CHECK(action.kind == ActionKind::kCreatePartition);
    REQUIRE(action.creates.size() == 1);
    CHECK(action.creates[0].name.name == expected_names[i]);
    CHECK(action.creates[0].upper - action.creates[0].lower == 86400);
  }
  const Action& first = plan.actions[1];
  CHECK(first.statements.size() == 3);
  CHECK(first.statements[0].find("CREATE TABLE \"public\".\"events_p20261121\" (LIKE "
                                 "\"public\".\"events\" INCLUDING DEFAULTS") == 0);
  CHECK(first.statements[1] ==
        "ALTER TABLE \"public\".\"events\" ATTACH PARTITION \"public\".\"events_p20261121\" FOR "
        "VALUES FROM ('2026-11-21 00:00:00+00') TO ('2026-11-22 00:00:00+00')");
  CHECK(first.statements[2] == "SELECT pg_notify('partop_partition_map', '\"public\".\"events\"')");
  for (const auto& action : plan.actions) {
    for (const auto& statement : action.statements) {
      CHECK(statement.find("PARTITION OF") == std::string::npos);
    }
  }
}

TEST_CASE("a table that matches the policy plans nothing") {
  ObservedTable table = partitioned_table();
  for (int day = 21; day <= 24; ++day) add_day(table, 11, day);
  const Plan plan = plan_reconcile(daily_spec(), table, {}, kNow);
  CHECK(plan.actions.empty());
  CHECK(plan.findings.empty());
  CHECK(plan.figures.partition_count == 4);
  CHECK(plan.figures.buffered_until == epoch_seconds(2026, 11, 25));
}

TEST_CASE("gaps between the oldest and newest partitions are filled") {
  ObservedTable table = partitioned_table();
  add_day(table, 11, 15);
  add_day(table, 11, 18);
  for (int day = 21; day <= 24; ++day) add_day(table, 11, day);
  const Plan plan = plan_reconcile(daily_spec(), table, {}, kNow);
  std::vector<std::string> created;
  for (const auto& action : plan.actions) created.push_back(action.creates.at(0).name.name);
  CHECK(created == std::vector<std::string>{"events_p20261116", "events_p20261117",
                                            "events_p20261119", "events_p20261120"});
}

TEST_CASE("rows in DEFAULT are drained into their own partitions, far future included") {
  ObservedTable table = partitioned_table();
  for (int day = 21; day <= 24; ++day) add_day(table, 11, day);
  table.default_buckets = {{epoch_seconds(2026, 11, 27), 40}};
  table.default_rows = 45;  // 5 with a NULL key
  const Plan plan = plan_reconcile(daily_spec(), table, {}, kNow);
  REQUIRE(plan.actions.size() == 3);
  CHECK(plan.actions[0].creates.at(0).name.name == "events_p20261125");
  CHECK(plan.actions[1].creates.at(0).name.name == "events_p20261126");
  const Action& drain = plan.actions[2];
  CHECK(drain.kind == ActionKind::kDrainDefault);
  CHECK(drain.creates.at(0).name.name == "events_p20261127");
  REQUIRE(drain.moved_rows_statement.has_value());
  CHECK(drain.statements[*drain.moved_rows_statement].find(
            "WITH moved AS (DELETE FROM ONLY \"public\".\"events_default\"") == 0);
  CHECK(drain.statements[*drain.moved_rows_statement - 2] ==
        "LOCK TABLE ONLY \"public\".\"events_default\" IN EXCLUSIVE MODE");
  // The move: out of DEFAULT before the ATTACH, back in through the parent after it.
  const size_t moved = *drain.moved_rows_statement;
  CHECK(drain.statements[moved].find("INSERT INTO \"partop_drain\"") != std::string::npos);
  CHECK(drain.statements[moved + 1].find("ATTACH PARTITION \"public\".\"events_p20261127\"") !=
        std::string::npos);
  CHECK(drain.statements[moved + 2].find("INSERT INTO \"public\".\"events\"") == 0);
  CHECK(drain.statements[moved + 2].find("OVERRIDING SYSTEM VALUE SELECT") != std::string::npos);
  CHECK(find(plan, "DefaultRowsWithoutKey") != nullptr);
}

TEST_CASE("drain disabled: the partition is not created and the reason is reported") {
  ObservedTable table = partitioned_table();
  for (int day = 21; day <= 24; ++day) add_day(table, 11, day);
  table.default_buckets = {{epoch_seconds(2026, 11, 24), 1}};
  table.partitions.erase(table.partitions.end() - 2);  // drop the 24th
  table.default_rows = 1;
  PolicySpec spec = daily_spec();
  spec.default_drain = false;
  const Plan plan = plan_reconcile(spec, table, {}, kNow);
  CHECK(plan.actions.empty());
  REQUIRE(find(plan, "DefaultPartitionNotEmpty") != nullptr);
}

TEST_CASE("retention judges partitions by their catalog bounds, not their names") {
  ObservedTable table = partitioned_table();
  // Named like an old day but actually covering a wide range reaching into kept time.
  table.partitions.insert(table.partitions.begin(),
                          ObservedPartition{{"public", "events_p20200101"},
                                            false,
                                            epoch_seconds(2026, 10, 1),
                                            epoch_seconds(2026, 11, 15)});
  // Named like a recent day but its range is long expired.
  table.partitions.insert(table.partitions.begin(),
                          ObservedPartition{{"public", "events_p20261120"},
                                            false,
                                            epoch_seconds(2025, 1, 1),
                                            epoch_seconds(2025, 2, 1)});
  for (int day = 15; day <= 24; ++day) add_day(table, 11, day);
  PolicySpec spec = daily_spec();
  spec.retention = RetentionSpec{30, RetentionSpec::Unit::kDays};
  const Plan plan = plan_reconcile(spec, table, {}, kNow);
  REQUIRE(plan.actions.size() == 1);
  CHECK(plan.actions[0].kind == ActionKind::kDropPartition);
  CHECK(plan.actions[0].statements[0] == "DROP TABLE \"public\".\"events_p20261120\"");
  CHECK(plan.actions[0].locks[0].mode == LockMode::kAccessExclusive);
}

TEST_CASE("retention waits for the maintenance window, forward creation does not") {
  ObservedTable table = partitioned_table();
  add_day(table, 9, 1);
  for (int day = 21; day <= 23; ++day) add_day(table, 11, day);
  PolicySpec spec = daily_spec();
  spec.retention = RetentionSpec{7, RetentionSpec::Unit::kDays, RetentionSpec::Action::kDetach};
  spec.schedule.maintenance_window = MaintenanceWindow{2 * 60, 5 * 60, "UTC"};
  Plan plan = plan_reconcile(spec, table, {}, kNow);  // 07:30 UTC: closed
  CHECK(kinds(plan) == std::vector<ActionKind>{ActionKind::kCreatePartition});
  REQUIRE(find(plan, "MaintenanceWindowClosed") != nullptr);
  ObservedServer server;
  server.window_utc_offset_seconds = -4 * 3600;  // 03:30 local: open
  plan = plan_reconcile(spec, table, server, kNow);
  CHECK(kinds(plan) ==
        std::vector<ActionKind>{ActionKind::kCreatePartition, ActionKind::kDetachPartition});
  CHECK(plan.actions[1].statements[0] ==
        "ALTER TABLE \"public\".\"events\" DETACH PARTITION \"public\".\"events_p20260901\"");
}

TEST_CASE("rows in DEFAULT past retention stay there and are reported") {
  ObservedTable table = partitioned_table();
  for (int day = 21; day <= 24; ++day) add_day(table, 11, day);
  table.default_buckets = {{epoch_seconds(2025, 3, 3), 10}};
  table.default_rows = 10;
  PolicySpec spec = daily_spec();
  spec.retention = RetentionSpec{30, RetentionSpec::Unit::kDays};
  const Plan plan = plan_reconcile(spec, table, {}, kNow);
  CHECK(plan.actions.empty());
  REQUIRE(find(plan, "RowsPastRetention") != nullptr);
}

TEST_CASE("a partition off the grid is reported, and no cell is created beside it") {
  ObservedTable table = partitioned_table();
  table.partitions.insert(table.partitions.begin(),
                          ObservedPartition{{"public", "legacy"},
                                            false,
                                            epoch_seconds(2026, 11, 21, 12),
                                            epoch_seconds(2026, 11, 22, 12)});
  const Plan plan = plan_reconcile(daily_spec(), table, {}, kNow);
  const Finding* conflict = find(plan, "PartitionConflict");
  REQUIRE(conflict != nullptr);
  CHECK(conflict->message.find("public.legacy") != std::string::npos);
  // Cells before and after it would leave [21st 00:00, 21st 12:00) and [22nd 12:00, 23rd) as
  // holes routed to DEFAULT forever.
  for (const auto& action : plan.actions) CHECK(action.creates.empty());
}

TEST_CASE("a coarser hand-made layout is reported, not extended with cells of another width") {
  ObservedTable table = partitioned_table();
  table.partitions.insert(table.partitions.begin(), ObservedPartition{{"public", "events_2026_11"},
                                                                      false,
                                                                      epoch_seconds(2026, 11, 1),
                                                                      epoch_seconds(2026, 12, 1)});
  const Plan plan = plan_reconcile(daily_spec(), table, {}, kNow);
  const Finding* mismatch = find(plan, "LayoutMismatch");
  REQUIRE(mismatch != nullptr);
  CHECK(mismatch->message.find("public.events_2026_11") != std::string::npos);
  for (const auto& action : plan.actions) CHECK(action.creates.empty());
}

TEST_CASE("an expired partition off the grid does not hold back the forward buffer") {
  ObservedTable table = partitioned_table();
  table.partitions.insert(table.partitions.begin(), ObservedPartition{{"public", "events_2025_01"},
                                                                      false,
                                                                      epoch_seconds(2025, 1, 1),
                                                                      epoch_seconds(2025, 2, 1)});
  PolicySpec spec = daily_spec();
  spec.retention = RetentionSpec{30, RetentionSpec::Unit::kDays};
  const Plan plan = plan_reconcile(spec, table, {}, kNow);
  CHECK(find(plan, "LayoutMismatch") == nullptr);
  CHECK(std::count_if(plan.actions.begin(), plan.actions.end(),
                      [](const Action& a) { return a.kind == ActionKind::kCreatePartition; }) > 0);
}

TEST_CASE("the storage guard postpones new partitions only while the buffer lasts") {
  ObservedTable table = partitioned_table();
  add_day(table, 11, 21);
  add_day(table, 11, 22);
  PolicySpec spec = daily_spec();
  spec.guards.storage = StorageGuardSpec{1000, 80};
  ObservedServer server;
  server.database_size_bytes = 900;
  Plan plan = plan_reconcile(spec, table, server, kNow);
  CHECK(plan.actions.empty());
  REQUIRE(find(plan, "StorageQuotaExceeded") != nullptr);
  CHECK(find(plan, "StorageQuotaExceeded")->severity == Finding::Severity::kDeferred);
  table.partitions.erase(table.partitions.begin() + 1);  // only today left: buffer exhausted
  plan = plan_reconcile(spec, table, server, kNow);
  CHECK(plan.actions.size() == 3);
}

TEST_CASE("table problems block the plan with a specific reason") {
  ObservedTable table = partitioned_table();
  table.exists = false;
  CHECK(plan_reconcile(daily_spec(), table, {}, kNow).findings[0].reason == "TableNotFound");
  table = partitioned_table();
  table.relkind = 'r';
  CHECK(plan_reconcile(daily_spec(), table, {}, kNow).findings[0].reason == "TableNotPartitioned");
  table = partitioned_table();
  table.strategy = "list";
  CHECK(plan_reconcile(daily_spec(), table, {}, kNow).findings[0].reason ==
        "UnsupportedPartitionKey");
  table = partitioned_table();
  table.key_type.reset();
  table.key_type_name = "text";
  const Plan plan = plan_reconcile(daily_spec(), table, {}, kNow);
  CHECK(plan.blocked());
  CHECK(plan.findings[0].message.find("of type text") != std::string::npos);
  table = partitioned_table();
  PolicySpec spec = daily_spec();
  spec.interval = {std::nullopt, 1000, "1000"};
  CHECK(plan_reconcile(spec, table, {}, kNow).findings[0].reason == "InvalidSpec");
}

TEST_CASE("declared indexes: parent ON ONLY, concurrent child builds, attach") {
  ObservedTable table = partitioned_table();
  for (int day = 21; day <= 24; ++day) add_day(table, 11, day);
  PolicySpec spec = daily_spec();
  spec.indexes.push_back(IndexSpec{"events_id_idx", {"id"}, false, "btree", {}, "", {}});
  Plan plan = plan_reconcile(spec, table, {}, kNow);
  REQUIRE(!plan.actions.empty());
  CHECK(plan.actions[0].statements[0] ==
        "CREATE INDEX \"events_id_idx\" ON ONLY \"public\".\"events\" USING btree (\"id\")");
  CHECK(plan.actions.size() == 1 + 2 * 5);  // 4 partitions + DEFAULT, build + attach each
  CHECK_FALSE(plan.actions[1].transactional);
  CHECK(plan.actions[1].statements[0] ==
        "CREATE INDEX CONCURRENTLY \"events_p20261121_events_id_idx\" ON "
        "\"public\".\"events_p20261121\" USING btree (\"id\")");
  CHECK(plan.actions[2].statements[0] ==
        "ALTER INDEX \"public\".\"events_id_idx\" ATTACH PARTITION "
        "\"public\".\"events_p20261121_events_id_idx\"");

  // Parent index present, one partition lacks it, one has an invalid leftover of ours.
  table.indexes.push_back({"events_id_idx", {"id"}, {}, false, "btree", false, ""});
  for (const auto& partition : table.partitions) {
    if (partition.name.name == "events_p20261123") continue;
    const bool leftover = partition.name.name == "events_p20261124";
    table.partition_indexes.push_back({{"public", partition.name.name + "_events_id_idx"},
                                       partition.name.name,
                                       leftover ? "" : "events_id_idx",
                                       !leftover});
  }
  plan = plan_reconcile(spec, table, {}, kNow);
  CHECK(kinds(plan) == std::vector<ActionKind>{
                           ActionKind::kBuildPartitionIndex, ActionKind::kAttachPartitionIndex,
                           ActionKind::kBuildPartitionIndex, ActionKind::kAttachPartitionIndex});
  CHECK(plan.actions[2].statements[0] ==
        "REINDEX INDEX CONCURRENTLY \"public\".\"events_p20261124_events_id_idx\"");
}

TEST_CASE("a unique index must contain the partition key") {
  ObservedTable table = partitioned_table();
  PolicySpec spec = daily_spec();
  spec.indexes.push_back(IndexSpec{"events_id_key", {"id"}, true, "btree", {}, "", {}});
  Plan plan = plan_reconcile(spec, table, {}, kNow);
  REQUIRE(plan.blocked());
  CHECK(plan.findings[0].message.find("spec.indexes[0].unique") == 0);
  spec.indexes[0].columns = {"id", "missing"};
  plan = plan_reconcile(spec, table, {}, kNow);
  CHECK(plan.findings[0].message.find("column missing does not exist") != std::string::npos);
}

TEST_CASE("integer keys anchor on the maximum key") {
  ObservedTable table = partitioned_table();
  table.key_column = "id";
  table.key_type = KeyType::kBigint;
  table.max_key = 2'500;
  table.partitions.clear();
  PolicySpec spec = daily_spec();
  spec.interval = {std::nullopt, 1000, "1000"};
  spec.premake = 2;
  spec.default_enabled = false;
  const Plan plan = plan_reconcile(spec, table, {}, kNow);
  std::vector<std::string> created;
  for (const auto& action : plan.actions) created.push_back(action.creates.at(0).name.name);
  CHECK(created == std::vector<std::string>{"events_p2000", "events_p3000", "events_p4000"});
  CHECK(plan.actions[0].statements[1].find("FOR VALUES FROM (2000) TO (3000)") !=
        std::string::npos);
}

TEST_CASE("a MINVALUE partition is understood: the cells after it are filled") {
  ObservedTable table = partitioned_table();
  table.partitions.insert(
      table.partitions.end() - 1,
      ObservedPartition{
          {"public", "events_history"}, false, kUnboundedBelow, epoch_seconds(2026, 11, 18)});
  const Plan plan = plan_reconcile(daily_spec(), table, {}, kNow);
  std::vector<std::string> created;
  for (const auto& action : plan.actions) {
    for (const auto& cell : action.creates) created.push_back(cell.name.name);
  }
  // Now (the 21st) and three ahead first, then the gap the history partition leaves.
  CHECK(created == std::vector<std::string>{"events_p20261121", "events_p20261122",
                                            "events_p20261123", "events_p20261124",
                                            "events_p20261118", "events_p20261119",
                                            "events_p20261120"});
}

TEST_CASE("long names are shortened with a stable hash") {
  const std::string table(60, 't');
  const std::string name = partition_name(table, PartitionGrid::time(TimeUnit::kDay), 0);
  CHECK(name.size() == 63);
  CHECK(name == partition_name(table, PartitionGrid::time(TimeUnit::kDay), 0));
  CHECK(name != partition_name(table, PartitionGrid::time(TimeUnit::kDay), 86400));
  CHECK(name.substr(name.size() - 10) == "_p19700101");
}

// Pinned: partop finds its partitions by their bounds, but indexes, DEFAULT and drain steps use
// these names; a change of the hash or the shortening would rename objects on upgrade.
TEST_CASE("shortened names are pinned to fixed values") {
  CHECK(partition_name(std::string(60, 't'), PartitionGrid::time(TimeUnit::kDay), 0) ==
        "tttttttttttttttttttttttttttttttttttttttttttt_65673566_p19700101");
  CHECK(derived_name(std::string(70, 'o'), "default") ==
        "oooooooooooooooooooooooooooooooooooooooooooooo_702919c6_default");
  CHECK(partition_name("an_orders_table_with_a_name_long_enough_to_need_shortening_x",
                       PartitionGrid::time(TimeUnit::kHour), 1796140800) ==
        "an_orders_table_with_a_name_long_enough_t_7b78ac6b_p20261201_16");
}

}  // namespace partop
