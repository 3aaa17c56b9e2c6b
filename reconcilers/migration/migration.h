// PartitionMigration: the declaration that turns a live, unpartitioned table into a partitioned
// one online, and can turn it back. The same shape as the custom resource's spec, after
// defaults are applied and values validated by migration_parser.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/partition/policy.h"

namespace partop {

enum class MigrationStrategy {
  kCopy,  // a partitioned twin kept in sync by triggers; swap and rollback are renames
  kMove,  // rows moved into the twin behind a view (not built yet: refused by the planner)
};

enum class MigrationTarget {
  kPartitioned,  // the application uses the partitioned table
  kOriginal,     // the application uses the original table
};

struct MigrationSpec {
  QualifiedName table;  // the name the application uses, throughout
  std::string partition_key;
  IntervalSpec interval;
  int premake = 3;
  MigrationStrategy strategy = MigrationStrategy::kCopy;
  MigrationTarget target = MigrationTarget::kPartitioned;
  bool finalize = false;  // once at target: stop syncing, keep the other as <table>_retired
  int64_t batch_size = 10000;
  std::chrono::milliseconds pause_between{0};
  std::vector<IndexSpec> indexes;  // on top of every index of the source
  // Unique constraints (or indexes) without the partition key whose global uniqueness the user
  // gives up: they become unique per partition (with the key) plus a plain index.
  std::vector<std::string> accept_per_partition_uniqueness;
  GuardSpec guards;
  std::optional<DatabaseRef> database_ref;
};

using Migration = Resource<MigrationSpec>;

std::string_view strategy_name(MigrationStrategy strategy);  // "copy", "move"
std::string_view target_name(MigrationTarget target);        // "Partitioned", "Original"

}  // namespace partop
