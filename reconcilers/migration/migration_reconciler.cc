#include "reconcilers/migration/migration_reconciler.h"

#include <thread>

#include "reconcilers/partition/catalog_reader.h"
#include "reconcilers/partition/guards.h"
#include "reconcilers/partition/reconciler.h"
#include "reconcilers/partition/step_run.h"

namespace partop {
namespace {

// Steps other than copy batches one reconcile applies before it reports what is left: each
// phase change takes one, so this bounds a plan that would never converge.
constexpr int kMaxStepRounds = 12;
// Steps the server rolled back (serialization failure, deadlock) retried within one reconcile.
constexpr int kMaxRolledBackRetries = 10;
// When a migration that reached its target is looked at again.
constexpr std::chrono::minutes kResync{10};

Outcome base_outcome(const Migration& migration) {
  return resource_outcome(migration, kResync);
}

MigrationProgress progress_of(const Migration& migration, const PlannedMigration& planned) {
  const MigrationState& state = planned.observed.state;
  MigrationProgress progress;
  progress.phase = state.exists ? state.phase : "";
  progress.target = std::string(target_name(migration.spec.target));
  progress.rows_copied = state.rows_copied;
  if (progress.phase == "" || progress.phase == "Preparing" || progress.phase == "Copying") {
    progress.rows_remaining =
        std::max<int64_t>(planned.observed.original.estimated_rows - state.rows_copied, 0);
  }
  progress.swaps = state.swaps;
  progress.last_swap_time = state.last_swap_time;
  return progress;
}

std::string at_target_message(const Migration& migration, const std::string& phase) {
  const bool partitioned = migration.spec.target == MigrationTarget::kPartitioned;
  std::string message = "the application uses the " +
                        std::string(partitioned ? "partitioned" : "original") + " table " +
                        migration.spec.table.display();
  if (phase.empty()) return message + "; no migration has begun";
  if (phase == "Finalized") return message + "; the migration is finalized";
  return message + " (phase " + phase + "); the other table is kept in sync";
}

}  // namespace

MigrationReconciler::MigrationReconciler(const Clock& clock, StopRequested stop_requested,
                                         std::chrono::milliseconds slice)
    : clock_(clock), stop_requested_(std::move(stop_requested)), slice_(slice) {}

PlannedMigration MigrationReconciler::observe_and_plan(DatabaseSession& session,
                                                       const Migration& migration) const {
  PlannedMigration planned;
  PolicySpec server_spec;
  server_spec.table = migration.spec.table;
  planned.server = read_server(session, server_spec);
  planned.observed = read_migration(session, migration.spec);
  planned.plan = plan_migration(migration.spec, planned.observed, planned.server, clock_.now());
  return planned;
}

Outcome MigrationReconciler::reconcile(DatabaseSession& session, const Migration& migration,
                                       ReconcileMode mode) const {
  try {
    return run(session, migration, mode);
  } catch (const std::exception& error) {
    return outcome_of_error(base_outcome(migration), "reading the migration's tables", error);
  }
}

Outcome MigrationReconciler::run(DatabaseSession& session, const Migration& migration,
                                 ReconcileMode mode) const {
  Outcome outcome = base_outcome(migration);
  const MigrationSpec& spec = migration.spec;
  std::optional<TableLock> lock;
  if (!lock_table(session, spec.table, mode, lock, outcome)) return outcome;
  const auto started = clock_.now();
  int step_rounds = 0;
  int rolled_back = 0;
  Executor executor(session, spec.guards, stop_requested_);
  AppliedSteps applied(outcome, ActionKind::kCopyBatch, "copied", "batch(es)");
  const auto record = [&](const Execution& run) { applied.record(run); };
  const auto report_batches = [&] { applied.report_repeated(); };
  // Nothing more to do in this reconcile: Ready at the target, otherwise what is pending.
  const auto settle = [&](const MigrationPlan& plan, bool in_recovery) {
    for (const auto& action : plan.maintenance) outcome.actions_pending.push_back(action.summary);
    for (const auto& action : plan.actions) outcome.actions_pending.push_back(action.summary);
    report_batches();
    if (in_recovery && !outcome.actions_pending.empty()) {
      set_summary_conditions(outcome, false, "ReadOnlyStandby",
                             "connected to a standby (in recovery): the migration needs the "
                             "primary",
                             false);
    } else if (plan.at_target && plan.actions.empty()) {
      set_summary_conditions(outcome, true, "TargetReached",
                             at_target_message(migration, plan.phase), false);
    } else {
      set_summary_conditions(outcome, false, plan.phase.empty() ? "NotStarted" : plan.phase,
                             std::to_string(plan.actions.size()) + " step(s) pending",
                             !plan.actions.empty());
    }
    return outcome;
  };
  const auto stopped = [&](const Execution& run) {
    const PlannedMigration after = observe_and_plan(session, migration);
    outcome.migration = progress_of(migration, after);
    report_batches();
    report_stopped(outcome, run);
    return outcome;
  };
  for (;;) {
    const PlannedMigration planned = observe_and_plan(session, migration);
    const MigrationPlan& plan = planned.plan;
    outcome.findings = plan.findings;
    outcome.migration = progress_of(migration, planned);
    outcome.key_type = planned.observed.partitioned.key_type;
    outcome.partitions = planned.observed.partitioned.partitions;
    if (plan.blocked()) {
      const Finding* problem = first_problem(plan.findings);
      set_summary_conditions(outcome, false, problem->reason, problem->message, false);
      report_batches();
      return outcome;
    }
    if ((plan.actions.empty() && plan.maintenance.empty()) || mode == ReconcileMode::kObserve ||
        planned.server.in_recovery) {
      return settle(plan, planned.server.in_recovery);
    }
    if (!plan.maintenance.empty()) {
      const Execution upkeep = executor.execute(plan.maintenance);
      record(upkeep);
      // Once the application uses the twin (through the view, or by name after a swap), its
      // upkeep yields: a DEFAULT drain or a new partition that would wait on the application's
      // locks is left for a later reconcile instead of stopping the migration.
      const bool yields = upkeep.stopped && plan.phase != "Preparing" &&
                          (upkeep.stopped->reason == "LockTimeout" ||
                           upkeep.stopped->reason == "ReplicationLagHigh");
      if (yields) {
        outcome.findings.push_back(
            {Finding::Severity::kDeferred, "TwinMaintenanceDeferred", upkeep.stopped->message});
        if (plan.actions.empty()) return settle(plan, false);
      } else if (upkeep.stopped || !upkeep.failures.empty()) {
        return stopped(upkeep);
      }
    }
    if (!plan.actions.empty()) {
      const Execution run = executor.execute(plan.actions);
      record(run);
      // A batch the server rolled back (it met a row the application moved across partitions,
      // or a deadlock) applied nothing: it is planned again from the database's truth.
      if (run.stopped && run.stopped->reason == "ConcurrentUpdate" &&
          ++rolled_back <= kMaxRolledBackRetries) {
        continue;
      }
      if (run.stopped || !run.failures.empty()) return stopped(run);
    }
    if (!plan.copying && ++step_rounds > kMaxStepRounds) {
      report_batches();
      outcome.retry_with_backoff = true;
      set_summary_conditions(
          outcome, false, "ActionsPending",
          "steps are still planned after " + std::to_string(kMaxStepRounds) + " rounds; will retry",
          true);
      return outcome;
    }
    if (plan.copying) {
      if (stop_requested_ && stop_requested_()) continue;  // the executor stops at the next step
      if (spec.pause_between.count() > 0) std::this_thread::sleep_for(spec.pause_between);
      if (slice_.count() > 0 && clock_.now() - started >= slice_) {
        const PlannedMigration after = observe_and_plan(session, migration);
        outcome.migration = progress_of(migration, after);
        report_batches();
        outcome.more_work = !after.plan.actions.empty();
        set_summary_conditions(
            outcome, false, after.plan.phase,
            std::to_string(outcome.migration->rows_copied) + " row(s) copied; continuing", true);
        return outcome;
      }
    }
  }
}

}  // namespace partop
