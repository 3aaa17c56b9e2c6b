#include "reconcilers/backfill/backfill_reconciler.h"

#include <thread>

#include "reconcilers/partition/catalog_reader.h"
#include "reconcilers/partition/guards.h"
#include "reconcilers/partition/step_run.h"

namespace partop {
namespace {

// Steps other than fill slices applied for one partition before reporting what is left: a
// partition takes four or five (start, index builds, finish, swap), so this bounds a plan that
// would never converge.
constexpr int kMaxStepRoundsPerPartition = 12;
// Steps the server rolled back (serialization failure, deadlock) retried within one reconcile.
constexpr int kMaxRolledBackRetries = 10;
// When a complete backfill is looked at again.
constexpr std::chrono::minutes kResync{10};

Outcome base_outcome(const Backfill& backfill) {
  return resource_outcome(backfill, kResync);
}

std::string progress_message(const BackfillProgress& progress) {
  std::string out = std::to_string(progress.done) + "/" + std::to_string(progress.total) +
                    " partition(s) rebuilt, " + std::to_string(progress.rows_written) +
                    " row(s) written";
  if (progress.set_aside > 0)
    out += ", " + std::to_string(progress.set_aside) + " set aside after writes";
  if (!progress.current.empty()) out += "; rebuilding " + progress.current;
  return out;
}

// Sleeps `pause`, waking early when a stop is requested.
void pause_for(std::chrono::milliseconds pause, const StopRequested& stop_requested) {
  const auto until = std::chrono::steady_clock::now() + pause;
  while (std::chrono::steady_clock::now() < until && !(stop_requested && stop_requested())) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(200), until - std::chrono::steady_clock::now()));
  }
}

}  // namespace

BackfillReconciler::BackfillReconciler(const Clock& clock, StopRequested stop_requested,
                                       std::chrono::milliseconds slice)
    : clock_(clock), stop_requested_(std::move(stop_requested)), slice_(slice) {}

PlannedBackfill BackfillReconciler::observe_and_plan(DatabaseSession& session,
                                                     const Backfill& backfill) const {
  PlannedBackfill planned;
  PolicySpec server_spec;
  server_spec.table = backfill.spec.table;
  planned.server = read_server(session, server_spec);
  planned.observed = read_backfill(session, backfill);
  planned.plan = plan_backfill(backfill, planned.observed, clock_.now());
  return planned;
}

Outcome BackfillReconciler::reconcile(DatabaseSession& session, const Backfill& backfill,
                                      ReconcileMode mode) const {
  try {
    return run(session, backfill, mode);
  } catch (const std::exception& error) {
    return outcome_of_error(base_outcome(backfill), "reading the backfill's tables", error);
  }
}

Outcome BackfillReconciler::run(DatabaseSession& session, const Backfill& backfill,
                                ReconcileMode mode) const {
  Outcome outcome = base_outcome(backfill);
  const BackfillSpec& spec = backfill.spec;
  if (spec.suspend) mode = ReconcileMode::kObserve;
  std::optional<TableLock> lock;
  if (!lock_table(session, spec.table, mode, lock, outcome)) return outcome;
  const auto started = clock_.now();
  int step_rounds = 0;
  int rolled_back = 0;
  // Rebuilds set aside during this reconcile: reported with the outcome, whatever comes after.
  std::vector<Finding> conflicts;
  Executor executor(session, spec.guards, stop_requested_);
  AppliedSteps applied(outcome, ActionKind::kFillSlice, "filled", "slice(s)");
  // The latest plan's figures and findings, with the slices filled and the conflicts met.
  const auto report = [&](const BackfillPlan& plan) {
    outcome.backfill = plan.progress;
    outcome.findings = plan.findings;
    for (const auto& conflict : conflicts) {
      bool known = false;
      for (const auto& finding : outcome.findings) known |= finding.message == conflict.message;
      if (!known) outcome.findings.push_back(conflict);
    }
    applied.report_repeated();
  };
  const auto slice_used = [&] { return slice_.count() > 0 && clock_.now() - started >= slice_; };
  // A partition's fill slices are planned together; in the operator they stop at the end of the
  // time slice (the next reconcile plans the rest from the control row).
  const auto execute_within_slice = [&](const std::vector<Action>& actions) {
    if (slice_.count() == 0) return executor.execute(actions);
    Execution all;
    for (const Action& action : actions) {
      Execution one = executor.execute({action});
      const bool go_on = !one.stopped && one.failures.empty();
      all.append(std::move(one));
      if (!go_on || slice_used()) break;
    }
    return all;
  };
  for (;;) {
    const PlannedBackfill planned = observe_and_plan(session, backfill);
    const BackfillPlan& plan = planned.plan;
    for (const auto& finding : plan.findings) {
      if (finding.reason == "Conflict") conflicts.push_back(finding);
    }
    if (plan.blocked()) {
      report(plan);
      const Finding& problem = *std::find_if(
          plan.findings.begin(), plan.findings.end(),
          [](const Finding& f) { return f.severity == Finding::Severity::kBlocking; });
      set_summary_conditions(outcome, false, problem.reason, problem.message, false);
      return outcome;
    }
    if (plan.complete) {
      report(plan);
      set_summary_conditions(outcome, true, "Complete",
                             "every partition of the range is rebuilt from " +
                                 spec.source.display() + ": " + progress_message(plan.progress),
                             false);
      return outcome;
    }
    if (mode == ReconcileMode::kObserve || planned.server.in_recovery) {
      report(plan);
      for (const auto& action : plan.actions) outcome.actions_pending.push_back(action.summary);
      if (planned.server.in_recovery) {
        set_summary_conditions(outcome, false, "ReadOnlyStandby",
                               "connected to a standby (in recovery): the backfill needs the "
                               "primary",
                               false);
      } else {
        set_summary_conditions(outcome, false, spec.suspend ? "Suspended" : "InProgress",
                               progress_message(plan.progress), !spec.suspend);
      }
      return outcome;
    }
    const Execution run = execute_within_slice(plan.actions);
    applied.record(run);
    if (run.stopped && run.stopped->reason == "Conflict") {
      conflicts.push_back(*run.stopped);  // the next plan sets the partition aside
      continue;
    }
    if (run.stopped && run.stopped->reason == "ConcurrentUpdate" &&
        ++rolled_back <= kMaxRolledBackRetries) {
      continue;
    }
    if (run.stopped || !run.failures.empty()) {
      report(observe_and_plan(session, backfill).plan);
      report_stopped(outcome, run);
      return outcome;
    }
    const bool swapped = std::find(run.applied_kinds.begin(), run.applied_kinds.end(),
                                   ActionKind::kSwapPartition) != run.applied_kinds.end();
    if (swapped) step_rounds = 0;
    if (!plan.filling && !swapped && ++step_rounds > kMaxStepRoundsPerPartition) {
      report(plan);
      outcome.retry_with_backoff = true;
      set_summary_conditions(outcome, false, "ActionsPending",
                             "steps are still planned for " + plan.progress.current + " after " +
                                 std::to_string(kMaxStepRoundsPerPartition) + " rounds; will retry",
                             true);
      return outcome;
    }
    const bool more_partitions = plan.progress.done + 1 < plan.progress.total;
    if (swapped && more_partitions && spec.pause_between.count() > 0) {
      if (slice_.count() > 0) {
        // The operator's worker is not held through the pause: come back after it.
        report(observe_and_plan(session, backfill).plan);
        outcome.requeue_after = spec.pause_between;
        set_summary_conditions(outcome, false, "InProgress",
                               progress_message(*outcome.backfill) + "; pausing", true);
        return outcome;
      }
      pause_for(spec.pause_between, stop_requested_);
    }
    if (slice_used()) {
      const PlannedBackfill after = observe_and_plan(session, backfill);
      report(after.plan);
      outcome.more_work = !after.plan.complete && !after.plan.blocked();
      set_summary_conditions(outcome, false, "InProgress",
                             progress_message(after.plan.progress) + "; continuing", true);
      return outcome;
    }
  }
}

}  // namespace partop
