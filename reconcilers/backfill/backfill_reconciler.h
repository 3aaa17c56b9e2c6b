// Reconciles one PartitionBackfill against its database: under the table's advisory lock (the
// one a PartitionPolicy of the table takes: one runner at a time), reads the catalog and the
// control rows, plans the next steps of the partition being rebuilt, applies them under guards,
// and plans again — partition after partition, sleeping pauseBetween after each swap — until the
// range is rebuilt, something stops it (a guard, a refusal, a failed step, a shutdown), or its
// time slice is used up; then it returns with more_work set. Knows nothing of Kubernetes.
#pragma once

#include <chrono>

#include "reconcilers/backfill/backfill.h"
#include "reconcilers/backfill/backfill_catalog.h"
#include "reconcilers/backfill/backfill_planner.h"
#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/executor.h"
#include "reconcilers/partition/outcome.h"
#include "reconcilers/partition/reconciler.h"

namespace partop {

struct PlannedBackfill {
  ObservedServer server;
  ObservedBackfill observed;
  BackfillPlan plan;
};

class BackfillReconciler {
 public:
  // `slice`: how long one reconcile may keep working before it returns with more_work; zero
  // means until the range is rebuilt or something stops it (the command line's apply).
  BackfillReconciler(const Clock& clock, StopRequested stop_requested,
                     std::chrono::milliseconds slice);

  // Reads the world and plans. Throws DatabaseError when the database cannot be read.
  PlannedBackfill observe_and_plan(DatabaseSession& session, const Backfill& backfill) const;

  // Database failures become an outcome (DatabaseUnavailable, LockTimeout, ...), never an
  // exception. A suspended backfill is observed only.
  Outcome reconcile(DatabaseSession& session, const Backfill& backfill, ReconcileMode mode) const;

 private:
  Outcome run(DatabaseSession& session, const Backfill& backfill, ReconcileMode mode) const;

  const Clock& clock_;
  StopRequested stop_requested_;
  std::chrono::milliseconds slice_;
};

}  // namespace partop
