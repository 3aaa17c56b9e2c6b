#include "reconcilers/backfill/backfill_planner.h"

#include <doctest/doctest.h>

#include "reconcilers/partition/layout.h"
#include "tests/support/observed_tables.h"

namespace partop {
namespace {

const TimePoint kNow = TimePoint{} + std::chrono::seconds(epoch_seconds(2026, 11, 21, 7, 30));

// usage, daily partitions from November 1 to 24, the source usage_v2, range [Nov 10, Nov 13).
ObservedBackfill observed() {
  ObservedBackfill out;
  out.table = testing::range_partitioned_table({"public", "usage"}, "day",
                                               "timestamp with time zone", {"id", "day", "amount"});
  ObservedTable& table = out.table;
  for (int day = 1; day <= 24; ++day) {
    const KeyValue lower = epoch_seconds(2026, 11, static_cast<unsigned>(day));
    table.partitions.push_back(
        {{"public", partition_name("usage", PartitionGrid::time(TimeUnit::kDay), lower)},
         false,
         lower,
         lower + 86400});
  }
  out.source_exists = true;
  out.source_columns = {"id", "day", "amount", "note"};
  return out;
}

Backfill backfill(const std::string& from = "2026-11-10", const std::string& to = "2026-11-13") {
  Backfill out;
  out.name = "fix";
  out.spec.table = {"public", "usage"};
  out.spec.source = {"public", "usage_v2"};
  out.spec.from = {from, std::nullopt, std::nullopt};
  out.spec.to = {to, std::nullopt, std::nullopt};
  out.spec.from.time = epoch_seconds(2026, 11, static_cast<unsigned>(std::stoi(from.substr(8))));
  out.spec.to.time = epoch_seconds(2026, 11, static_cast<unsigned>(std::stoi(to.substr(8))));
  out.spec.slices_per_partition = 4;
  return out;
}

// The live partition of November `day`, as the catalog reader fills it for the current one.
LivePartition live(const ObservedBackfill& world, int day) {
  LivePartition out;
  out.partition = world.table.partitions.at(static_cast<size_t>(day - 1));
  out.table.name = out.partition.name;
  out.table.exists = true;
  out.table.relkind = 'r';
  out.indexes = {
      {out.partition.name.name + "_pkey", " USING btree (id, day)", true, "PRIMARY KEY (id, day)"}};
  return out;
}

BackfillRow row(const LivePartition& partition, const std::string& state, KeyValue filled_upto,
                int conflicts = 0, int64_t live_writes = 0) {
  BackfillRow out;
  out.lower = partition.partition.lower;
  out.upper = partition.partition.upper;
  out.partition = partition.partition.name.name;
  out.state = state;
  out.filled_upto = filled_upto;
  out.conflicts = conflicts;
  out.live_writes = live_writes;
  return out;
}

std::string reason(const BackfillPlan& plan) {
  for (const auto& finding : plan.findings) {
    if (finding.severity == Finding::Severity::kBlocking) return finding.reason;
  }
  return "";
}

}  // namespace

TEST_CASE("backfill planner: the first partition starts, then fills in its remaining slices") {
  ObservedBackfill world = observed();
  world.current = live(world, 10);
  BackfillPlan plan = plan_backfill(backfill(), world, kNow);
  REQUIRE(plan.actions.size() == 1);
  CHECK(plan.actions[0].kind == ActionKind::kStartBackfill);
  CHECK(plan.progress.total == 3);
  CHECK(plan.progress.done == 0);

  world.current->shadow_exists = true;
  const KeyValue lower = world.current->partition.lower;
  world.rows = {row(*world.current, "building", lower + 21600)};  // one slice of four done
  plan = plan_backfill(backfill(), world, kNow);
  REQUIRE(plan.actions.size() == 3);
  CHECK(plan.filling);
  for (const auto& action : plan.actions) CHECK(action.kind == ActionKind::kFillSlice);
  CHECK(plan.actions.back().summary.find("2026-11-11T00:00:00Z)") != std::string::npos);
}

TEST_CASE("backfill planner: without slicesPerPartition a partition is a slice per 64 MiB") {
  BackfillSpec spec;
  CHECK(fill_slices(spec, 0) == 1);
  CHECK(fill_slices(spec, 20 * 1024 * 1024) == 1);
  CHECK(fill_slices(spec, kAutoSliceBytes + 1) == 2);
  CHECK(fill_slices(spec, 100 * kAutoSliceBytes) == 100);
  CHECK(fill_slices(spec, int64_t{1} << 60) == 10000);
  spec.slices_per_partition = 4;
  CHECK(fill_slices(spec, 100 * kAutoSliceBytes) == 4);

  ObservedBackfill world = observed();
  world.current = live(world, 10);
  world.current->shadow_exists = true;
  world.current->heap_bytes = 3 * kAutoSliceBytes;
  world.rows = {row(*world.current, "building", world.current->partition.lower)};
  Backfill automatic = backfill();
  automatic.spec.slices_per_partition.reset();
  const BackfillPlan plan = plan_backfill(automatic, world, kNow);
  CHECK(plan.actions.size() == 3);
}

TEST_CASE("backfill planner: a filled shadow gets its indexes, then is finished, then swapped") {
  ObservedBackfill world = observed();
  world.current = live(world, 10);
  world.current->shadow_exists = true;
  world.rows = {row(*world.current, "building", world.current->partition.upper)};
  BackfillPlan plan = plan_backfill(backfill(), world, kNow);
  REQUIRE(plan.actions.size() == 1);
  CHECK(plan.actions[0].kind == ActionKind::kPrepareShadow);

  world.current->shadow_indexes = {"usage_p20261110_pkey_shadow"};
  plan = plan_backfill(backfill(), world, kNow);
  REQUIRE(plan.actions.size() == 1);
  CHECK(plan.actions[0].kind == ActionKind::kFinishShadow);

  world.rows[0].state = "ready";
  plan = plan_backfill(backfill(), world, kNow);
  REQUIRE(plan.actions.size() == 1);
  CHECK(plan.actions[0].kind == ActionKind::kSwapPartition);
  CHECK(plan.actions[0].locks.front().relation.display() == "public.usage");  // parent first
}

TEST_CASE(
    "backfill planner: writes during a rebuild set it aside, three of them stop the backfill") {
  ObservedBackfill world = observed();
  world.current = live(world, 10);
  world.current->shadow_exists = true;
  world.rows = {row(*world.current, "ready", world.current->partition.upper, 0, 4)};
  BackfillPlan plan = plan_backfill(backfill(), world, kNow);
  REQUIRE(plan.actions.size() == 1);
  CHECK(plan.actions[0].kind == ActionKind::kSetAsideRebuild);
  CHECK_FALSE(plan.blocked());

  world.rows = {row(*world.current, "pending", world.current->partition.lower, 3)};
  plan = plan_backfill(backfill(), world, kNow);
  CHECK(reason(plan) == "Conflict");
  CHECK(plan.actions.empty());
}

TEST_CASE("backfill planner: refusals name what is wrong and plan nothing") {
  ObservedBackfill world = observed();
  world.current = live(world, 10);
  CHECK(reason(plan_backfill(backfill("2026-11-20", "2026-11-23"), world, kNow)) ==
        "RangeIncludesCurrent");
  ObservedBackfill gap = observed();
  gap.table.partitions.erase(gap.table.partitions.begin() + 10);  // November 11
  CHECK(reason(plan_backfill(backfill(), gap, kNow)) == "RangeNotOnPartitionBounds");
  ObservedBackfill no_column = observed();
  no_column.source_columns = {"id", "day"};
  CHECK(reason(plan_backfill(backfill(), no_column, kNow)) == "SourceColumnsMissing");
  ObservedBackfill sub = observed();
  sub.current = live(sub, 10);
  sub.current->table.relkind = 'p';
  CHECK(reason(plan_backfill(backfill(), sub, kNow)) == "UnsupportedPartition");
  ObservedBackfill taken = observed();
  taken.current = live(taken, 10);
  taken.current->replaced_name_taken = true;
  CHECK(reason(plan_backfill(backfill(), taken, kNow)) == "ReplacedNameTaken");
}

TEST_CASE("backfill planner: every partition swapped is complete") {
  ObservedBackfill world = observed();
  for (int day = 10; day <= 12; ++day)
    world.rows.push_back(row(live(world, day), "swapped", live(world, day).partition.upper));
  const BackfillPlan plan = plan_backfill(backfill(), world, kNow);
  CHECK(plan.complete);
  CHECK(plan.progress.done == 3);
  CHECK(plan.actions.empty());
}

}  // namespace partop
