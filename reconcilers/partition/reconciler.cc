#include "reconcilers/partition/reconciler.h"

#include <algorithm>

#include "reconcilers/partition/catalog_reader.h"
#include "reconcilers/partition/executor.h"
#include "reconcilers/partition/guards.h"
#include "reconcilers/partition/transaction_packing.h"

namespace partop {
namespace {

void set_detail_conditions(Outcome& outcome, const ObservedTable& table) {
  const int64_t rows = table.default_rows;
  if (table.default_partition() == nullptr) {
    set_condition(outcome.conditions, {"DefaultPartitionEmpty", "Unknown", "NoDefaultPartition",
                                       "the table has no DEFAULT partition"});
  } else {
    set_condition(outcome.conditions,
                  {"DefaultPartitionEmpty", rows == 0 ? "True" : "False",
                   rows == 0 ? "Empty" : "RowsInDefault",
                   rows == 0 ? "the DEFAULT partition holds no rows"
                             : std::to_string(rows) + " row(s) in the DEFAULT partition"});
  }
  int invalid = 0;
  for (const auto& index : table.partition_indexes) invalid += index.valid ? 0 : 1;
  for (const auto& index : table.indexes) invalid += index.valid ? 0 : 1;
  set_condition(outcome.conditions,
                {"IndexesValid", invalid == 0 ? "True" : "False",
                 invalid == 0 ? "AllValid" : "InvalidIndexes",
                 invalid == 0 ? "every index on the table and its partitions is valid"
                              : std::to_string(invalid) + " invalid index(es)"});
}

void copy_plan(Outcome& outcome, const Plan& plan) {
  outcome.key_type = plan.key_type;
  outcome.figures = plan.figures;
  outcome.findings = plan.findings;
}

// Partitions this run created that are not attached with exactly the planned bounds.
std::vector<std::string> unverified(const std::vector<ExpectedPartition>& created,
                                    const ObservedTable& table) {
  std::vector<std::string> out;
  for (const auto& expected : created) {
    const bool found =
        std::any_of(table.partitions.begin(), table.partitions.end(), [&](const auto& p) {
          return p.name == expected.name && !p.is_default && p.lower == expected.lower &&
                 p.upper == expected.upper;
        });
    if (!found) out.push_back(expected.name.display());
  }
  return out;
}

}  // namespace

Outcome base_outcome(const Policy& policy) {
  Outcome outcome;
  outcome.policy = policy.key();
  outcome.table = policy.spec.table.display();
  outcome.requeue_after = policy.spec.schedule.resync_interval;
  return outcome;
}

const Finding* first_problem(const std::vector<Finding>& findings) {
  for (const auto& severity : {Finding::Severity::kBlocking, Finding::Severity::kWarning}) {
    for (const auto& f : findings) {
      if (f.severity == severity) return &f;
    }
  }
  return nullptr;
}

Outcome invalid_spec_outcome(const std::string& policy_key, const std::string& message) {
  Outcome outcome;
  outcome.policy = policy_key;
  set_summary_conditions(outcome, false, "InvalidSpec", message, false);
  return outcome;
}

Outcome unavailable_outcome(const Policy& policy, const std::string& reason,
                            const std::string& message) {
  Outcome outcome = base_outcome(policy);
  outcome.retry_with_backoff = true;
  set_summary_conditions(outcome, false, reason, message, !needs_human(reason));
  return outcome;
}

Outcome conflict_outcome(const Policy& policy, const std::string& message) {
  Outcome outcome = base_outcome(policy);
  set_summary_conditions(outcome, false, "Conflict", message, false);
  return outcome;
}

PlannedReconcile PartitionReconciler::observe_and_plan(DatabaseSession& session,
                                                       const Policy& policy) const {
  PlannedReconcile planned;
  try {
    CatalogObservation observed = observe_catalog(session, policy.spec);
    planned.server = observed.server;
    planned.table = std::move(observed.table);
    planned.worst_lag = observed.worst_lag;
  } catch (const DatabaseError& error) {
    if (error.sqlstate() != "22023") throw;
    planned.plan.findings.push_back(
        {Finding::Severity::kBlocking, "InvalidSpec",
         "spec.schedule.maintenanceWindow.timeZone: " + std::string(error.what())});
    return planned;
  }
  planned.plan = plan_reconcile(policy.spec, planned.table, planned.server, clock_.now());
  planned.plan.actions = pack_new_partitions(std::move(planned.plan.actions), planned.table);
  return planned;
}

Outcome PartitionReconciler::reconcile(DatabaseSession& session, const Policy& policy,
                                       ReconcileMode mode) const {
  Outcome outcome = base_outcome(policy);
  try {
    // A read that finds nothing to do needs no lock (a no-op is the catalog's round trips and
    // nothing else). To apply, the table's lock comes before the reading the plan is made from:
    // a second runner waits (up to lockTimeout) instead of planning from a catalog the first
    // one is changing, and its catalog reads never make the first one back off.
    PlannedReconcile planned = observe_and_plan(session, policy);
    std::optional<TableLock> lock;
    if (!planned.plan.actions.empty() && !planned.plan.blocked() && !planned.server.in_recovery) {
      if (auto busy = lock_table_for_apply(session, policy, mode, lock)) return *busy;
      if (lock) planned = observe_and_plan(session, policy);
    }
    copy_plan(outcome, planned.plan);
    if (planned.plan.blocked()) {
      const Finding* problem = first_problem(planned.plan.findings);
      set_summary_conditions(outcome, false, problem->reason, problem->message, false);
      return outcome;
    }
    set_detail_conditions(outcome, planned.table);
    outcome.partitions = planned.table.partitions;
    if (planned.worst_lag) outcome.replication_lag_seconds = planned.worst_lag->seconds;
    auto pending = [&] {
      for (const auto& action : planned.plan.actions)
        outcome.actions_pending.push_back(action.summary);
    };
    if (mode == ReconcileMode::kObserve || policy.spec.suspend || planned.plan.actions.empty() ||
        planned.server.in_recovery) {
      pending();
      const Finding* problem = first_problem(planned.plan.findings);
      if (planned.server.in_recovery && !planned.plan.actions.empty()) {
        set_summary_conditions(
            outcome, false, "ReadOnlyStandby",
            "connected to a standby (in recovery): " + std::to_string(planned.plan.actions.size()) +
                " action(s) need the primary",
            false);
      } else if (problem != nullptr) {
        set_summary_conditions(outcome, false, problem->reason, problem->message, false);
      } else if (!planned.plan.actions.empty()) {
        const bool suspended = mode == ReconcileMode::kApply && policy.spec.suspend;
        set_summary_conditions(outcome, false, suspended ? "Suspended" : "ActionsPending",
                               std::to_string(planned.plan.actions.size()) + " action(s) " +
                                   (suspended ? "wait: the policy is suspended" : "pending"),
                               !suspended);
      } else {
        set_summary_conditions(outcome, true, "Reconciled",
                               "partitions, DEFAULT and indexes match the policy", false);
      }
      return outcome;
    }

    const Execution run =
        Executor(session, policy.spec.guards, stop_requested_).execute(planned.plan.actions);
    outcome.actions_taken = run.applied;
    outcome.applied_kinds = run.applied_kinds;
    outcome.actions_pending = run.not_run;
    outcome.rows_drained = run.rows_drained;

    PlannedReconcile after = observe_and_plan(session, policy);
    copy_plan(outcome, after.plan);
    outcome.partitions = after.table.partitions;
    set_detail_conditions(outcome, after.table);
    const auto missing = unverified(run.created, after.table);
    if (run.stopped) {
      outcome.findings.push_back(*run.stopped);
      outcome.retry_with_backoff = true;
      set_summary_conditions(outcome, false, run.stopped->reason, run.stopped->message,
                             !needs_human(run.stopped->reason));
    } else if (!missing.empty()) {
      std::string names;
      for (const auto& name : missing) names += (names.empty() ? "" : ", ") + name;
      set_summary_conditions(outcome, false, "VerificationFailed",
                             "created but not found attached with the planned bounds: " + names,
                             false);
    } else if (!run.failures.empty()) {
      outcome.retry_with_backoff = true;
      set_summary_conditions(
          outcome, false, "ActionFailed",
          run.failures.front() +
              (run.failures.size() > 1
                   ? " (and " + std::to_string(run.failures.size() - 1) + " more)"
                   : ""),
          true);
    } else if (const Finding* problem = first_problem(after.plan.findings)) {
      set_summary_conditions(outcome, false, problem->reason, problem->message, false);
    } else if (!after.plan.actions.empty()) {
      for (const auto& action : after.plan.actions)
        outcome.actions_pending.push_back(action.summary);
      outcome.retry_with_backoff = true;
      set_summary_conditions(outcome, false, "ActionsPending",
                             std::to_string(after.plan.actions.size()) +
                                 " action(s) still planned after applying; will retry",
                             true);
    } else {
      // The condition states what holds now; what was done is in actionsTaken and the Events,
      // so the reconcile after this one (a no-op) changes no status.
      set_summary_conditions(outcome, true, "Reconciled",
                             "partitions, DEFAULT and indexes match the policy", false);
    }
    return outcome;
  } catch (const DatabaseError& error) {
    return database_error_outcome(policy, error);
  }
}

std::optional<Outcome> lock_table_for_apply(DatabaseSession& session, const Policy& policy,
                                            ReconcileMode mode, std::optional<TableLock>& lock) {
  if (mode != ReconcileMode::kApply || policy.spec.suspend) return std::nullopt;
  lock.emplace(session, policy.spec.table.display());
  if (lock->state() != TableLock::State::kBusy) return std::nullopt;
  Outcome outcome = base_outcome(policy);
  outcome.retry_with_backoff = true;
  set_summary_conditions(outcome, false, "Busy",
                         "another partop process is reconciling " + policy.spec.table.display(),
                         true);
  return outcome;
}

Outcome database_error_outcome(const Policy& policy, const DatabaseError& error) {
  if (error.is_lock_timeout()) {
    // Reading the catalog or the DEFAULT partition waited longer than lockTimeout behind
    // another session's lock: back off like any other lock outcome.
    return unavailable_outcome(policy, "LockTimeout",
                               std::string("reading the table: ") + error.what());
  }
  if (error.is_insufficient_privilege()) {
    Outcome denied = base_outcome(policy);
    set_summary_conditions(denied, false, "InsufficientPrivilege",
                           std::string("reading the table: ") + error.what(), false);
    return denied;
  }
  return unavailable_outcome(policy, error.unavailable_reason(), error.what());
}

}  // namespace partop
