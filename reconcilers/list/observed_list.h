// What partop observes about a list-partitioned table (PartitionPolicy.spec.list) and the values
// its source names: plain data, filled by list_catalog and consumed by the list planner.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/list/list_bound.h"
#include "reconcilers/partition/catalog.h"

namespace partop {

struct ObservedListPartition {
  QualifiedName name;
  bool is_default = false;
  ListBoundValues values;      // empty for DEFAULT
  bool partitioned = false;    // a sub-tree (relkind 'p') rather than a leaf
  std::string strategy;        // the sub-tree's: "range", "list", "hash"; "" for a leaf
  std::string sub_key_column;  // the sub-tree's partition key column, "" for an expression
};

struct ObservedListTable {
  // The parent as read_table() reads any table (owner, grants, columns, key column and type),
  // with its indexes and its partitions' indexes.
  ObservedTable parent;
  std::vector<ObservedListPartition> partitions;  // by name, DEFAULT included
  // format_type() of spec.timeKey on the parent; "" when there is no such column.
  std::string time_key_type_name;
  // Rows in the DEFAULT partition per key value (its text); NULL keys are counted apart.
  std::map<std::string, int64_t> default_rows;
  int64_t default_null_rows = 0;

  const ObservedListPartition* default_partition() const;
  // The partition whose values include `value`, or nullptr.
  const ObservedListPartition* partition_for(const std::string& value) const;
};

// The values spec.list names, as the server prints them in the key's type (so "07" written for
// an integer key is "7", a uuid is lower case). `error` names the field and what the server
// said when the values could not be read or cast.
struct SourceValues {
  std::vector<std::string> values;    // distinct, sorted
  std::optional<std::string> reason;  // CamelCase finding reason when unreadable
  std::string error;
};

// True for the key types a list policy supports: text, character varying, integer, bigint, uuid.
bool supported_list_key_type(const std::string& type_name);

}  // namespace partop
