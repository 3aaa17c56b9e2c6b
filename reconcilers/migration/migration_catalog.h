// What the migration planner needs to know, read from the catalog through a DatabaseSession:
// the original table (columns, keys, indexes, foreign keys, what depends on it), the partitioned
// twin (as a PartitionPolicy sees a partitioned table), and the migration's progress row.
// Progress lives in the database, in <schema>.partop_migrations, so a migration resumes from the
// database's truth after partop is killed or restarted, or PostgreSQL is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reconcilers/migration/migration.h"
#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/db_session.h"

namespace partop {

struct SourceColumn {
  std::string name;
  std::string type;  // format_type with typmod
  bool not_null = false;
  bool generated = false;      // GENERATED ALWAYS AS (...) STORED: never written by partop
  bool identity = false;       // GENERATED ... AS IDENTITY
  std::string owned_sequence;  // quoted qualified name of the sequence it owns (serial/identity)
  std::string default_expr;    // pg_get_expr of its DEFAULT, "" when none (or identity)
};

// A primary key or unique constraint, or a unique index without a constraint.
struct SourceKey {
  std::string name;        // the constraint's name, or the index's
  std::string index_name;  // the index that enforces it
  bool primary = false;
  bool constraint = false;  // false: a unique index
  std::vector<std::string> columns;
  bool has_expression = false;
  bool partial = false;  // a unique index with a WHERE clause
};

struct SourceIndex {
  std::string name;
  std::string method_and_columns;  // pg_get_indexdef from " USING " on
  bool unique = false;
  bool includes_key = false;  // names the partition key column among its columns
};

struct ObservedSource {
  QualifiedName name;  // current name
  bool exists = false;
  char relkind = 0;
  std::string oid;
  std::string owner;
  std::vector<ObservedGrant> grants;
  char replica_identity = 'd';         // as ObservedTable's
  std::string replica_identity_index;  // for 'i'
  std::vector<SourceColumn> columns;  // in attnum order
  std::vector<SourceKey> keys;        // primary first
  std::vector<SourceIndex> indexes;
  std::vector<std::string> outgoing_foreign_keys;     // "CONSTRAINT name FOREIGN KEY ..." text
  std::vector<std::string> referencing_foreign_keys;  // "constraint on table"
  std::vector<std::string> dependents;                // "view x", "trigger t on x", ...
  std::string comment;                                // table comment, "" when none
  int64_t estimated_rows = 0;                         // reltuples
  // The partition key's smallest finite value as a key value, when the table has rows.
  std::optional<KeyValue> min_key;
  std::optional<KeyValue> max_key;  // integer keys: the largest value

  const SourceColumn* column(const std::string& name) const;
};

struct MigrationState {
  bool exists = false;        // a row for this table
  bool table_exists = false;  // the state table itself
  std::string phase;          // Preparing, Copying, InSync, Swapped, RolledBack, Finalized
  std::string strategy;
  std::string original_oid;
  std::string partitioned_oid;
  bool copy_started = false;  // a batch has run (last_key is set)
  int64_t rows_copied = 0;
  int swaps = 0;
  std::string last_swap_time;  // ISO 8601, empty when never swapped
  // (original index name, its twin's name before the swap), recorded when the twin was made.
  std::vector<std::pair<std::string, std::string>> index_names;
};

// Trigger state of one change-capture direction.
struct SyncTrigger {
  bool exists = false;
  bool enabled = false;
};

struct ObservedMigration {
  MigrationState state;
  ObservedSource original;     // by oid once the migration exists, else by the spec's name
  ObservedTable partitioned;   // the twin, by oid; exists=false before it is created
  SyncTrigger to_partitioned;  // on the original
  SyncTrigger to_original;     // on the twin
  // Which relation has the spec's name now: "original", "partitioned", "view" (the move
  // strategy's routing view) or "" (none).
  std::string named;
  // True when the twin's indexes carry the original's index names (after a swap).
  bool index_names_swapped = false;
  // The sequence (quoted qualified name) of each identity column of the twin, by column.
  std::vector<std::pair<std::string, std::string>> twin_identity_sequences;
};

// Reads everything above. Throws DatabaseError when the database cannot be read.
ObservedMigration read_migration(DatabaseSession& session, const MigrationSpec& spec);

}  // namespace partop
