// The migration planner: a pure function from (spec, observed catalog and progress, now) to the
// ordered steps that move the table one phase closer to its target, plus findings. It touches
// no database; migration_reconciler applies the steps under the executor's guards and calls it
// again, so each phase change is planned from the database's truth.
//
// Phases: (none) -> Preparing (the twin and its keys exist) -> Copying (sync triggers on, rows
// copied in batches) -> InSync -> Swapped <-> RolledBack, and Finalized once at target when
// finalize is set. The twin's partitions (forward buffer, DEFAULT, declared indexes) are planned
// by the PartitionPolicy planner on every reconcile until the migration is finalized.
#pragma once

#include <string>
#include <vector>

#include "reconcilers/migration/migration.h"
#include "reconcilers/migration/migration_catalog.h"
#include "reconcilers/partition/action.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/plan.h"

namespace partop {

struct MigrationPlan {
  std::vector<Finding> findings;
  std::vector<Action> actions;  // the steps of the phase
  // The twin's layout (partitions, DEFAULT, declared indexes) by the PartitionPolicy planner:
  // required before syncing starts, upkeep afterwards.
  std::vector<Action> maintenance;
  std::string phase;       // as observed; "" before the migration began
  bool at_target = false;  // the declared end state holds (finalized too, when asked)
  bool copying = false;    // the plan holds a copy batch: the reconciler may run more
  bool blocked() const;
};

MigrationPlan plan_migration(const MigrationSpec& spec, const ObservedMigration& observed,
                             const ObservedServer& server, TimePoint now);

}  // namespace partop
