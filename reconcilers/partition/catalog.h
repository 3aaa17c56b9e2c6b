// What partop observed in the database about one partitioned table and its server: plain data,
// filled by catalog_reader and consumed by the planner. Bounds always come from the catalog
// (relpartbound), never from partition names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/partition/key_space.h"
#include "reconcilers/partition/policy.h"

namespace partop {

struct ObservedPartition {
  QualifiedName name;
  bool is_default = false;
  KeyValue lower = 0;  // inclusive; kUnboundedBelow for MINVALUE
  KeyValue upper = 0;  // exclusive; kUnboundedAbove for MAXVALUE
};

// An index on the parent (a partitioned index).
struct ObservedParentIndex {
  std::string name;
  std::vector<std::string> columns;  // key columns; an expression is written as "(expression)"
  std::vector<std::string> include;
  bool unique = false;
  std::string method;
  bool valid = true;
  std::string predicate;  // a partial index's WHERE, as pg_get_expr prints it; "" = none
};

// An index on one partition, attached to a parent index or standing alone.
// Only those that are invalid or not attached to a valid parent index are observed: a valid
// partitioned index has a valid index attached on every partition (PostgreSQL marks it valid only
// then).
struct ObservedPartitionIndex {
  QualifiedName name;
  std::string partition;     // the partition's table name (schema of the parent's partition)
  std::string parent_index;  // name of the parent index it is attached to; empty if none
  bool valid = true;
};

// One privilege the parent table grants (aclexplode of relacl or of a column's attacl), other than
// its owner's own.
struct ObservedGrant {
  std::string grantee;    // role name; empty for PUBLIC
  std::string privilege;  // SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
  bool grantable = false;
  std::string column;  // empty for a table-level grant
};

struct DefaultBucket {
  KeyValue lower = 0;  // grid cell holding these rows
  int64_t rows = 0;
};

struct ObservedTable {
  QualifiedName name;
  bool exists = false;
  char relkind = 0;      // 'p' partitioned table, 'r' plain table, ...
  std::string strategy;  // "range", "list", "hash"; empty when not partitioned
  int key_column_count = 0;
  std::string key_column;     // empty when the key is an expression
  std::string key_type_name;  // format_type() of the key column
  std::optional<KeyType> key_type;
  std::vector<std::string> columns;
  std::string owner;  // role that owns the parent
  // pg_class.relreplident of the parent ('d', 'f', 'n' or 'i') and, for 'i', its index's name.
  // PostgreSQL does not pass it down to partitions: partop sets FULL and NOTHING on those it makes.
  char replica_identity = 'd';
  std::string replica_identity_index;
  // Foreign keys of other tables that reference this one, as "constraint on table".
  std::vector<std::string> referencing_foreign_keys;
  std::vector<ObservedGrant> grants;          // what every partition partop creates must grant too
  std::vector<ObservedPartition> partitions;  // sorted by lower bound, DEFAULT last
  std::vector<ObservedParentIndex> indexes;
  std::vector<ObservedPartitionIndex> partition_indexes;
  // Rows in the DEFAULT partition per grid cell of the policy's interval (only when non-empty).
  std::vector<DefaultBucket> default_buckets;
  // Rows in DEFAULT whose key is infinity or -infinity: no partition can hold them.
  int64_t default_infinite_rows = 0;
  int64_t default_rows = 0;
  // Rows in DEFAULT whose key is NULL cannot be drained anywhere; reported.
  std::optional<KeyValue> max_key;  // integer keys: max(key) over the table
  // The phase of a PartitionMigration of this table (as original or as twin), "" when none is
  // recorded in the schema's partop_migrations.
  std::string migration_phase;

  const ObservedPartition* default_partition() const;
};

// The table holding the progress of every PartitionMigration in a schema, one row per table.
inline constexpr std::string_view kMigrationStateTable = "partop_migrations";

struct ObservedServer {
  bool in_recovery = false;
  int64_t database_size_bytes = 0;
  // Seconds to add to UTC to get the maintenance window's local time at observation.
  int64_t window_utc_offset_seconds = 0;
};

}  // namespace partop
