// The result of one reconcile of one policy: conditions in the metav1.Condition shape (without
// timestamps, which belong to whoever stores them), layout figures and the actions taken. This is
// what `partop apply` prints and what the operator writes into .status.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconcilers/partition/action.h"
#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/planner.h"

namespace partop {

struct Condition {
  std::string type;
  std::string status;  // "True", "False" or "Unknown"
  std::string reason;  // CamelCase
  std::string message;
};

// Where a PartitionMigration stands, as its .status shows it.
struct MigrationProgress {
  std::string phase;  // Preparing, Copying, InSync, Swapped, RolledBack, Finalized; "" = not begun
  std::string target;
  int64_t rows_copied = 0;
  int64_t rows_remaining = 0;  // an estimate, from the planner's row count
  int swaps = 0;
  std::string last_swap_time;  // RFC 3339, "" when never swapped
};

// Where a PartitionBackfill stands, as its .status shows it.
struct BackfillProgress {
  int done = 0;              // partitions swapped
  int total = 0;             // partitions in the range
  int set_aside = 0;         // partitions whose rebuild met the application's writes, not yet done
  int64_t rows_written = 0;  // into the shadows swapped in, and the one being built
  std::string current;       // the partition being rebuilt, "" when none
};

// Where the values of a list policy stand, as its .status shows them.
struct TenantsProgress {
  int total = 0;  // values the source names
  int ready = 0;  // whose partition (and sub-tree) matches the policy
  // "<value>: <Reason>: <message>" for the first kMaxListed tenants that are not ready.
  std::vector<std::string> not_ready;
  int values_without_source = 0;  // partitions' values the source no longer names (kept)
  // When this reconcile created partitions for new values: seconds from its start to the commit
  // of the last of them (how long partop took once it looked; with LISTEN it looks at once).
  std::optional<double> creation_seconds;
  static constexpr size_t kMaxListed = 10;
};

struct Outcome {
  std::string policy;  // Policy::key()
  std::string table;   // schema.name
  std::optional<KeyType> key_type;
  std::vector<Condition> conditions;
  LayoutFigures figures;
  std::vector<std::string> actions_taken;
  std::vector<ActionKind> applied_kinds;     // parallel to actions_taken
  std::vector<std::string> actions_pending;  // planned but not run (dry run, suspend, guard)
  std::vector<Finding> findings;
  // The partitions as last observed (range partitions in bound order, then DEFAULT).
  std::vector<ObservedPartition> partitions;
  // Replay lag of the furthest standby, when this server is a primary with standbys.
  std::optional<double> replication_lag_seconds;
  // Moved out of DEFAULT by this reconcile.
  int64_t rows_drained = 0;
  // When to reconcile again: sooner after a guard backed off, later when all is well.
  std::chrono::milliseconds requeue_after{0};
  // True when the outcome is transient (a guard backed off) and the caller should back off.
  bool retry_with_backoff = false;
  // A long job (a migration) stopped at the end of a bounded slice with work left: call again
  // now, behind whatever else is queued.
  bool more_work = false;
  std::optional<MigrationProgress> migration;
  std::optional<BackfillProgress> backfill;
  std::optional<TenantsProgress> tenants;

  const Condition* condition(const std::string& type) const;
  bool ready() const;
  std::string ready_reason() const;
  nlohmann::json to_json() const;
};

// Sets or replaces the condition of the same type.
void set_condition(std::vector<Condition>& conditions, Condition condition);

// `base` (a kind's outcome naming its object and table) for an error that escaped the engine
// while `doing` something: a DatabaseError becomes LockTimeout, InsufficientPrivilege (not
// retried) or DatabaseUnavailable; any other exception, a catalog value partop did not expect,
// InternalError — reported and retried, never fatal to the process.
Outcome outcome_of_error(Outcome base, const std::string& doing, const std::exception& error);

// Reasons that need a human: the spec or the database must change before partop can proceed.
bool needs_human(const std::string& reason);

// Ready, Reconciling and Stalled (Stalled when not ready for a reason that needs a human), in
// that order ahead of the other conditions, as kubectl describe shows them.
void set_summary_conditions(Outcome& outcome, bool ready, const std::string& reason,
                            const std::string& message, bool in_progress);

}  // namespace partop
