// One step the executor applies: a single transaction (or a single statement that PostgreSQL
// refuses to run inside one, such as CREATE INDEX CONCURRENTLY), the locks it will take, and what
// to verify after it commits.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reconcilers/partition/key_space.h"
#include "reconcilers/partition/lock_mode.h"
#include "reconcilers/partition/policy.h"

namespace partop {

enum class ActionKind {
  kCreateDefault,
  kCreatePartition,
  kCreateListPartition,  // a list value's partition (a leaf, or a range sub-tree with its DEFAULT)
  kDrainDefault,
  kCreateParentIndex,
  kBuildPartitionIndex,
  kAttachPartitionIndex,
  kRebuildIndex,
  kDropPartition,
  kDetachPartition,
  // PartitionMigration's steps.
  kPrepareMigration,   // the partitioned twin, its keys and indexes, the progress row
  kStartSync,          // change-capture triggers; copying may begin
  kCopyBatch,          // one batch of rows copied into the twin
  kSwap,               // the twin takes the table's name (or gives it back)
  kFinalizeMigration,  // syncing stops; the other table is kept as <table>_retired
  // PartitionBackfill's steps, for one partition.
  kStartBackfill,    // the shadow, the write-counting triggers, the control row
  kFillSlice,        // one slice of the partition's key range filled from the source
  kPrepareShadow,    // one index (or foreign key, NOT VALID) of the live partition on the shadow
  kFinishShadow,     // foreign keys validated, ANALYZE; the shadow is ready
  kSwapPartition,    // the shadow takes the live partition's place
  kSetAsideRebuild,  // the live partition was written to: shadow dropped, rebuilt later
};

std::string_view action_kind_name(ActionKind kind);  // "create-partition", ...

struct LockRequest {
  QualifiedName relation;
  LockMode mode;
};

// A partition this action brings into existence, checked after commit.
struct ExpectedPartition {
  QualifiedName name;
  KeyValue lower = 0;
  KeyValue upper = 0;
};

struct Action {
  Action(ActionKind action_kind, std::string action_summary)
      : kind(action_kind), summary(std::move(action_summary)) {}

  ActionKind kind;
  std::string summary;        // one line for humans: "create events_p20260101 [from, to)"
  bool transactional = true;  // false: one statement in autocommit mode
  std::vector<std::string> statements;
  std::vector<LockRequest> locks;  // for the lock guard, strongest first
  std::vector<ExpectedPartition> creates;
  // Set when this action is several new partitions packed in one transaction: each one's own
  // action. A failure that is not a guard's retries them one per transaction, so that one bad
  // cell does not hold the others back.
  std::vector<Action> members;
  // Dependencies between actions of one run: an action whose `needs` names the `provides` of
  // an action that was not applied (failed, or itself skipped) is not run either — no ATTACH of
  // an index whose build failed, no partition index build under a parent index that could not
  // be created. Names an action of another run (or none) never block. An action packing several
  // provides what each of them provides.
  std::vector<std::string> provides;
  std::vector<std::string> needs;
  // The lock pre-check backs off from any session holding a conflicting lock, so the step never
  // queues (and makes the application queue behind it). A step that needs a lock the
  // application's every write conflicts with (a migration's swap) would never find the table
  // free: it queues behind transactions younger than its lock_timeout, and lock_timeout bounds
  // that wait.
  bool queues_behind_short_transactions = false;
  // For a drain: statement index whose affected-row count is the number of rows moved.
  std::optional<size_t> moved_rows_statement;
};

}  // namespace partop
