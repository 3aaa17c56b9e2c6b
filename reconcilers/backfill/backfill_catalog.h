// What partop observed for one PartitionBackfill: the partitioned table, the source relation's
// columns, the backfill's rows in the control table and — for the one partition being rebuilt
// (or the next to be) — the live partition's indexes, foreign keys, owner and grants, and its
// shadow. Plain data, filled by read_backfill and consumed by the planner.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/backfill/backfill.h"
#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/db_session.h"

namespace partop {

// The control table holding every backfill's progress in a schema, one row per partition.
inline constexpr std::string_view kBackfillStateTable = "partop_backfills";

// One partition's row in the control table.
struct BackfillRow {
  KeyValue lower = 0;
  KeyValue upper = 0;
  std::string partition;  // the live partition's name when the row was written
  // building: the shadow is being filled and indexed; ready: it is complete and analysed;
  // swapped: it is the live partition now; pending: set aside after a conflict, to be rebuilt.
  std::string state;
  KeyValue filled_upto = 0;  // the shadow holds the source's rows below this key
  int64_t rows_written = 0;
  int64_t live_writes = 0;  // rows the application wrote into the live partition since the start
  int conflicts = 0;        // times the rebuild was set aside because of such writes
};

// An index of the live partition, to be built on its shadow under a derived name.
struct LiveIndex {
  std::string name;
  std::string method_and_columns;  // pg_get_indexdef from " USING " on
  bool unique = false;
  std::string constraint_definition;  // pg_get_constraintdef for a primary key or unique
                                      // constraint's index, "" for a plain index
};

// The partition being rebuilt (or the next to be), as it is now.
struct LivePartition {
  ObservedPartition partition;
  ObservedTable table;  // its owner, grants and replica identity
  std::vector<LiveIndex> indexes;
  // Its foreign keys, as (name, pg_get_constraintdef): copied onto the shadow before the swap
  // so that ATTACH finds them and validates nothing under its locks.
  std::vector<std::pair<std::string, std::string>> foreign_keys;
  bool write_trigger = false;  // partop's trigger counting the application's writes
  int64_t heap_bytes = 0;      // pg_relation_size: what the fill slices are sized from
  bool shadow_exists = false;
  std::vector<std::string> shadow_indexes;  // index names on the shadow
  std::vector<std::string> shadow_foreign_keys;
  bool replaced_name_taken = false;  // <partition>_replaced exists (kept by an earlier backfill)
};

struct ObservedBackfill {
  ObservedTable table;
  bool source_exists = false;
  std::vector<std::string> source_columns;
  std::vector<BackfillRow> rows;  // this backfill's, by lower bound
  std::optional<LivePartition> current;

  const BackfillRow* row(KeyValue lower) const;
};

// The range's partitions in the order they are rebuilt, or an error naming what does not fit
// (a bound off the partitions' bounds, a gap, a bound of the wrong type).
struct RangePartitions {
  std::vector<ObservedPartition> partitions;
  std::string error;
  std::optional<KeyValue> from;
  std::optional<KeyValue> to;
};
RangePartitions range_partitions(const BackfillSpec& spec, const ObservedTable& table);

// The partition to work on: one already under way, else the first in order among those not yet
// swapped that were set aside the fewest times (a partition that met writes goes to the end of
// the pass). nullopt when every partition is swapped.
std::optional<ObservedPartition> next_partition(const std::vector<ObservedPartition>& in_order,
                                                const std::vector<BackfillRow>& rows);

std::string shadow_name(const std::string& partition);
std::string shadow_index_name(const std::string& index);

// Reads everything above. Throws DatabaseError when the database cannot be read.
ObservedBackfill read_backfill(DatabaseSession& session, const Backfill& backfill);

}  // namespace partop
