// The SQL of a copy migration, as text: every identifier quoted by sql_text, every value a
// literal partop validated or read from the catalog. The planner decides what runs and when;
// this file only says how each step is written, so `plan` and `apply` print and send the same
// statements.
//
// The twin is kept in sync by row triggers that run as the table's owner (SECURITY DEFINER, with
// a fixed search_path): an application role that may UPDATE the table needs no DELETE on the
// twin for its update to be mirrored. Each direction has its trigger: on the original towards the
// twin before the swap and after a rollback, on the twin towards the original after a swap; the
// swap flips which one is enabled in the same transaction as the renames.
#pragma once

#include <string>
#include <vector>

#include "reconcilers/migration/migration.h"
#include "reconcilers/migration/migration_catalog.h"

namespace partop {

inline constexpr const char* kSyncToPartitioned = "partop_sync_to_partitioned";
inline constexpr const char* kSyncToOriginal = "partop_sync_to_original";

class MigrationDdl {
 public:
  MigrationDdl(const MigrationSpec& spec, const ObservedMigration& observed);

  QualifiedName twin_name() const;     // <table>_partitioned: the twin before a swap
  QualifiedName retired_name() const;  // <table>_retired: the original after a swap
  // The key that identifies a row in both tables (the primary key, or a unique NOT NULL key).
  const std::vector<std::string>& row_key() const { return row_key_; }

  // The progress table, the twin (columns, constraints, keys, indexes, outgoing foreign keys,
  // owner, grants, comment) and the progress row, in one transaction.
  std::vector<std::string> prepare() const;
  // Both sync triggers and their functions; the one towards the twin enabled.
  std::vector<std::string> start_sync() const;
  // One batch: the next `batch_size` rows by row key, locked in the original (so a concurrent
  // update waits and is then mirrored by the trigger), inserted into the twin unless the trigger
  // already put them there, and the progress row advanced — one statement.
  std::string copy_batch() const;
  // The twin takes the table's name (towards == Partitioned) or gives it back.
  std::vector<std::string> swap(MigrationTarget towards) const;
  // Syncing stops; the table not in use is kept under <table>_retired.
  std::vector<std::string> finalize() const;

 private:
  std::string state_table() const;
  std::string state_where() const;
  std::string sync_function(const QualifiedName& function, const QualifiedName& to,
                            bool key_not_null) const;
  QualifiedName function_name(const char* direction) const;

  const MigrationSpec& spec_;
  const ObservedMigration& observed_;
  std::vector<std::string> row_key_;
  std::vector<std::string> written_columns_;  // not generated
};

}  // namespace partop
