// What the reconcilers that apply long work step by step (PartitionMigration, PartitionBackfill)
// share around their plan-execute loop: the first outcome of a resource, the table's advisory
// lock, the record of applied steps with one repeated kind counted rather than listed, and how
// a run that a guard stopped or a step failed is reported.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "reconcilers/partition/executor.h"
#include "reconcilers/partition/guards.h"
#include "reconcilers/partition/outcome.h"
#include "reconcilers/partition/reconciler.h"

namespace partop {

// An outcome naming `resource` and its table, looked at again after `resync`.
template <typename Resource>
Outcome resource_outcome(const Resource& resource, std::chrono::seconds resync) {
  Outcome outcome;
  outcome.policy = resource.key();
  outcome.table = resource.spec.table.display();
  outcome.requeue_after = resync;
  return outcome;
}

// In apply mode, takes the table's advisory lock (the one a PartitionPolicy of the table takes:
// one runner at a time) into `lock`. False, with `outcome` Busy, when another process holds it.
bool lock_table(DatabaseSession& session, const QualifiedName& table, ReconcileMode mode,
                std::optional<TableLock>& lock, Outcome& outcome);

// A run a guard stopped (its finding, retried unless shutting down) or whose step failed
// (ActionFailed), with the steps it did not run as pending.
void report_stopped(Outcome& outcome, const Execution& run);

// Applied steps into `outcome`: each listed, except those of `repeated` (copy batches, fill
// slices), which are counted and reported as one line.
class AppliedSteps {
 public:
  // `repeated_verb`: "copied", "filled"; `repeated_noun`: "batch(es)", "slice(s)".
  AppliedSteps(Outcome& outcome, ActionKind repeated, std::string repeated_verb,
               std::string repeated_noun);
  void record(const Execution& run);
  // Adds "<verb> N <noun>" for the repeated steps recorded since the last call, if any.
  void report_repeated();

 private:
  Outcome& outcome_;
  ActionKind repeated_;
  std::string verb_;
  std::string noun_;
  int64_t count_ = 0;
};

}  // namespace partop
