// PartitionBackfill: the declaration that recomputes the history of a partitioned table one
// partition at a time — each partition's rows rebuilt from `source` in a shadow table beside it,
// then swapped in atomically. The same shape as the custom resource's spec, after defaults are
// applied and values validated by backfill_parser.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "reconcilers/partition/key_space.h"
#include "reconcilers/partition/policy.h"

namespace partop {

// One end of spec.range as written: a date or UTC time (for time keys) or an integer (for
// integer keys). Which one applies is known once the table's key type is read.
struct RangeBound {
  std::string text;                 // as written, for messages
  std::optional<KeyValue> time;     // seconds since the epoch, UTC, when it reads as a time
  std::optional<KeyValue> integer;  // when it reads as an integer

  // The bound as a value of `type`, nullopt when it is not one.
  std::optional<KeyValue> as(KeyType type) const { return is_time_key(type) ? time : integer; }
};

enum class BackfillOrder { kOldestFirst, kNewestFirst };

enum class ReplacedPartition {
  kKeep,  // the old partition stays, detached, as <partition>_replaced
  kDrop,  // the old partition is dropped in the swap
};

struct BackfillSpec {
  QualifiedName table;   // the partitioned table
  QualifiedName source;  // a table or view with (at least) the table's columns
  RangeBound from;       // inclusive; must be a partition's lower bound
  RangeBound to;         // exclusive; must be a partition's upper bound
  BackfillOrder order = BackfillOrder::kOldestFirst;
  std::chrono::milliseconds pause_between{0};  // between two partitions
  ReplacedPartition replaced = ReplacedPartition::kKeep;
  bool suspend = false;
  // A partition's fill runs as this many transactions over equal slices of its key range, so
  // that a huge partition is never one hours-long statement and a restart loses one slice.
  // Unset: one slice per kAutoSliceBytes of the live partition's heap (at least one).
  std::optional<int> slices_per_partition;
  GuardSpec guards;
  std::optional<DatabaseRef> database_ref;
};

using Backfill = Resource<BackfillSpec>;

}  // namespace partop
