// The SQL partop runs on one partitioned table, as text: every identifier is quoted by sql_text
// and every value is a literal of the key type rendered by key_space. The planner decides what
// runs, in which transaction and under which locks; this file only says how each step is
// written, so `plan` and `apply` print and send the same statements.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/key_space.h"
#include "reconcilers/partition/policy.h"

namespace partop {

// What LIKE copies into a new partition. Identity is left out: a partition must not own a second
// sequence; inserts through the parent use the parent's.
inline constexpr std::string_view kLikeOptions =
    "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES INCLUDING STORAGE "
    "INCLUDING COMMENTS INCLUDING STATISTICS INCLUDING GENERATED";
// The session-private table a drain moves rows through (dropped at commit).
inline constexpr std::string_view kDrainTable = "partop_drain";
// Every committed change of the layout notifies this channel with the table's name.
inline constexpr std::string_view kPartitionMapChannel = "partop_partition_map";

class TableDdl {
 public:
  // `table` must have passed check_table(): one key column of a supported type.
  explicit TableDdl(const ObservedTable& table) : table_(table) {}

  // A relation in the table's schema.
  QualifiedName sibling(std::string name) const { return {table_.name.schema, std::move(name)}; }
  std::string notify() const;
  // What makes a new table partop created look like one its owner made: the table's owner and
  // the table's grants, table and column level, and its replica identity when FULL or NOTHING.
  std::vector<std::string> adopt(const QualifiedName& name) const;
  // Creates `name` like the parent (owned by the parent's owner, with its grants) and attaches
  // it as DEFAULT.
  std::vector<std::string> create_default(const QualifiedName& name) const;
  std::string create_parent_index(const IndexSpec& index) const;  // ON ONLY the parent
  std::string build_partition_index(const QualifiedName& child, const QualifiedName& partition,
                                    const IndexSpec& index) const;  // CONCURRENTLY
  std::string attach_index(const std::string& parent_index, const QualifiedName& child) const;
  static std::string reindex(const QualifiedName& index);  // CONCURRENTLY
  // DROP TABLE, or DETACH PARTITION when `drop` is false.
  std::vector<std::string> remove_partition(const QualifiedName& partition, bool drop) const;

  struct NewPartition {
    std::vector<std::string> statements;
    std::optional<size_t> moved_rows_statement;  // whose affected-row count is rows moved
  };
  // Creates `name` for [lower, upper) as a standalone table owned by the parent's owner with the
  // parent's grants and attaches it. The table is new and empty when ATTACH checks its rows
  // against the bounds (nothing to scan, so no CHECK constraint is needed to spare the scan),
  // and invisible to other sessions until commit. With `drain_from` (the DEFAULT partition) the
  // cell's rows move: deleted from DEFAULT before the ATTACH and inserted through the parent
  // after it, in the same transaction.
  NewPartition create_partition(const QualifiedName& name, KeyValue lower, KeyValue upper,
                                const std::optional<QualifiedName>& drain_from) const;
  // What a new partition is, beyond a table like the parent: its bound, the rows the bound
  // holds, and for a partition that is itself partitioned, its key and what it needs before it is
  // attached. create_partition() above is one of these; a list partition is another.
  struct PartitionShape {
    std::string bound;         // "FOR VALUES ..."
    std::string rows;          // a predicate on the parent's rows selecting those `bound` holds
    std::string partition_by;  // "PARTITION BY RANGE (...)" for a sub-tree, "" for a leaf
    // Run on the new table after it is adopted and before it is attached (a sub-tree's indexes
    // and DEFAULT). A sub-tree copies no index from the parent: `setup` creates those it wants
    // under their names, and ATTACH creates the parent's others.
    std::vector<std::string> setup;
  };
  NewPartition create_partition(const QualifiedName& name, const PartitionShape& shape,
                                const std::optional<QualifiedName>& drain_from) const;
  // CREATE INDEX `name` ON `table` (not ONLY, not CONCURRENTLY): for a table no one else sees yet.
  std::string create_index(const std::string& name, const QualifiedName& table,
                           const IndexSpec& index) const;
  // CHECK (key IS NOT NULL AND key >= lower AND key < upper): what lets ATTACH skip its scan.
  std::string bound_check(KeyValue lower, KeyValue upper) const;
  std::string literal(KeyValue value) const;  // a key value as a SQL literal
  std::string columns_sql(const std::vector<std::string>& columns) const;

 private:
  std::string index_definition(const IndexSpec& index) const;

  const ObservedTable& table_;
};

}  // namespace partop
