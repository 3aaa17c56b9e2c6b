// The SQL of a migration (copy and move strategies), as text: every identifier quoted by sql_text, every value a
// literal partop validated or read from the catalog. The planner decides what runs and when;
// this file only says how each step is written, so `plan` and `apply` print and send the same
// statements.
//
// Copy: the twin is kept in sync by row triggers that run as the table's owner (SECURITY DEFINER, with
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

  // The move strategy (seed 004): a view with the table's name over both tables routes every
  // write through INSTEAD OF triggers (inserts to the table rows are moving to, updates and
  // deletes to whichever table holds the row), and batches move rows with DELETE ... RETURNING,
  // so every row is in exactly one table at every instant. While the view is in place the
  // original is named <table>_retired and the twin <table>_partitioned.
  // The view in place of the table in use (the original from Preparing or RolledBack, the twin
  // from Swapped); new rows go to `towards`.
  std::vector<std::string> start_routing(MigrationTarget towards) const;
  // New rows go to `towards` from now on (a target flipped while the view is in place).
  std::vector<std::string> reroute(MigrationTarget towards) const;
  // The next batch_size rows moved into `towards`, and the progress row advanced.
  std::string move_batch(MigrationTarget towards) const;
  // The view dropped; `towards`, which holds every row, takes the table's name.
  std::vector<std::string> end_routing(MigrationTarget towards) const;
  // A finished move: nothing to stop; the empty table is kept under <table>_retired.
  std::vector<std::string> finalize_move() const;

 private:
  // What moves with the table's name at a swap (either strategy): index names and sequences.
  std::vector<std::string> hand_over(MigrationTarget towards, const QualifiedName& active) const;
  std::vector<std::string> sequences_to(MigrationTarget towards, const QualifiedName& active) const;
  std::string swapped(MigrationTarget towards) const;  // the progress row after a swap
  std::string state_table() const;
  std::string state_where() const;
  std::string sync_function(const QualifiedName& function, const QualifiedName& to,
                            bool key_not_null) const;
  QualifiedName function_name(const char* direction) const;
  std::string row_match(const char* record) const;  // "key = OLD.key AND ..."
  std::string insert_route(MigrationTarget towards) const;
  std::string routing_phase(MigrationTarget towards) const;

  const MigrationSpec& spec_;
  const ObservedMigration& observed_;
  std::vector<std::string> row_key_;
  std::vector<std::string> written_columns_;  // not generated
};

}  // namespace partop
