// Reconciles one PartitionMigration against its database: under the table's advisory lock, reads
// the catalog and the progress row, plans the next steps, applies them under guards, and plans
// again, phase after phase, until the target is reached, something stops it (a guard, a refusal,
// a failed step, a shutdown), or its time slice is used up while copying — then it returns with
// more_work set, so one migration never holds a worker for hours. Knows nothing of Kubernetes.
#pragma once

#include <chrono>

#include "reconcilers/migration/migration.h"
#include "reconcilers/migration/migration_catalog.h"
#include "reconcilers/migration/migration_planner.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/executor.h"
#include "reconcilers/partition/outcome.h"
#include "reconcilers/partition/reconciler.h"

namespace partop {

struct PlannedMigration {
  ObservedServer server;
  ObservedMigration observed;
  MigrationPlan plan;
};

class MigrationReconciler {
 public:
  // `slice`: how long one reconcile may keep copying before it returns with more_work; zero
  // means until the target is reached or something stops it (the command line's apply).
  MigrationReconciler(const Clock& clock, StopRequested stop_requested,
                      std::chrono::milliseconds slice);

  // Reads the world and plans. Throws DatabaseError when the database cannot be read.
  PlannedMigration observe_and_plan(DatabaseSession& session, const Migration& migration) const;

  // Database failures become an outcome (DatabaseUnavailable, LockTimeout, ...), never an
  // exception.
  Outcome reconcile(DatabaseSession& session, const Migration& migration, ReconcileMode mode) const;

 private:
  Outcome run(DatabaseSession& session, const Migration& migration, ReconcileMode mode) const;

  const Clock& clock_;
  StopRequested stop_requested_;
  std::chrono::milliseconds slice_;
};

}  // namespace partop
