#include "reconcilers/list/list_reconciler.h"

#include <algorithm>
#include <map>

#include "reconcilers/list/sub_tree_catalog.h"
#include "reconcilers/partition/catalog_reader.h"
#include "reconcilers/partition/guards.h"
#include "reconcilers/partition/sql_text.h"

namespace partop {
namespace {

// The worst (earliest) of two buffers, where nullopt (no buffer at all) is the worst.
std::optional<KeyValue> worse_buffer(const std::optional<KeyValue>& a,
                                     const std::optional<KeyValue>& b) {
  if (!a || !b) return std::nullopt;
  return std::min(*a, *b);
}

// Adds a tenant's sub-tree outcome to the policy's.
void add_sub_tree(Outcome& outcome, const Outcome& sub_tree, bool first) {
  for (size_t i = 0; i < sub_tree.actions_taken.size(); ++i) {
    outcome.actions_taken.push_back(sub_tree.actions_taken[i]);
    outcome.applied_kinds.push_back(sub_tree.applied_kinds[i]);
  }
  for (const auto& pending : sub_tree.actions_pending) outcome.actions_pending.push_back(pending);
  outcome.rows_drained += sub_tree.rows_drained;
  LayoutFigures& figures = outcome.figures;
  const LayoutFigures& sub = sub_tree.figures;
  figures.partition_count += sub.partition_count;
  figures.default_rows += sub.default_rows;
  figures.invalid_indexes += sub.invalid_indexes;
  if (sub.oldest_lower && (!figures.oldest_lower || *sub.oldest_lower < *figures.oldest_lower))
    figures.oldest_lower = sub.oldest_lower;
  if (sub.newest_upper && (!figures.newest_upper || *sub.newest_upper > *figures.newest_upper))
    figures.newest_upper = sub.newest_upper;
  figures.buffered_until =
      first ? sub.buffered_until : worse_buffer(figures.buffered_until, sub.buffered_until);
  if (sub_tree.key_type) outcome.key_type = sub_tree.key_type;
  if (sub_tree.retry_with_backoff) {
    outcome.retry_with_backoff = true;
    outcome.requeue_after = std::min(outcome.requeue_after, sub_tree.requeue_after);
  }
}

void record_run(Outcome& outcome, const Execution& run) {
  for (size_t i = 0; i < run.applied.size(); ++i) {
    outcome.actions_taken.push_back(run.applied[i]);
    outcome.applied_kinds.push_back(run.applied_kinds[i]);
  }
  outcome.rows_drained += run.rows_drained;
}

}  // namespace

std::optional<Outcome> ListPartitionReconciler::quiet_sub_tree(
    const Policy& sub_policy, const std::map<std::string, ObservedSubTree>& observed,
    const ObservedServer& server) const {
  const auto it = observed.find(sub_policy.spec.table.display());
  if (it == observed.end() || it->second.default_has_rows) return std::nullopt;
  const Plan plan = plan_reconcile(sub_policy.spec, it->second.table, server, clock_.now());
  if (!plan.actions.empty() || first_problem(plan.findings) != nullptr) return std::nullopt;
  Outcome quiet = base_outcome(sub_policy);
  quiet.key_type = plan.key_type;
  quiet.figures = plan.figures;
  quiet.findings = plan.findings;
  set_summary_conditions(quiet, true, "Reconciled",
                         "partitions, DEFAULT and indexes match the policy", false);
  return quiet;
}

PlannedList ListPartitionReconciler::observe_and_plan(DatabaseSession& session,
                                                      const Policy& policy) const {
  PlannedList planned;
  planned.server = read_server(session, policy.spec);
  planned.table = read_list_table(session, policy.spec);
  const ObservedTable& parent = planned.table.parent;
  if (parent.strategy == "list" && parent.key_column == policy.spec.list->column &&
      supported_list_key_type(parent.key_type_name)) {
    planned.source = read_source_values(session, *policy.spec.list, parent.key_type_name);
  }
  const auto names = new_tenant_names(policy.spec, planned.table, planned.source);
  planned.plan = plan_list(policy.spec, planned.table, planned.source,
                           read_taken_names(session, policy.spec.table.schema, names),
                           planned.server, clock_.now());
  return planned;
}

Outcome ListPartitionReconciler::reconcile(DatabaseSession& session, const Policy& policy,
                                           ReconcileMode mode) const {
  Outcome outcome = base_outcome(policy);
  const auto started = clock_.monotonic_now();
  try {
    std::optional<TableLock> lock;
    if (auto busy = lock_table_for_apply(session, policy, mode, lock)) return *busy;
    PlannedList planned = observe_and_plan(session, policy);
    if (planned.plan.plan.blocked()) {
      outcome.findings = planned.plan.plan.findings;
      const Finding* problem = first_problem(outcome.findings);
      set_summary_conditions(outcome, false, problem->reason, problem->message, false);
      return outcome;
    }
    if (!planned.server.in_recovery) {
      if (const auto lag = worst_replication_lag(session))
        outcome.replication_lag_seconds = lag->seconds;
    }
    const bool act =
        mode == ReconcileMode::kApply && !policy.spec.suspend && !planned.server.in_recovery;
    const GuardSpec& guards = policy.spec.guards;

    // 1. The list level.
    Execution list_run;
    if (act) {
      list_run = Executor(session, guards, stop_requested_).execute(planned.plan.plan.actions);
      record_run(outcome, list_run);
      if (!list_run.applied.empty()) planned = observe_and_plan(session, policy);
    } else {
      for (const auto& action : planned.plan.plan.actions)
        outcome.actions_pending.push_back(action.summary);
    }

    // 2. Each tenant's sub-tree, once per partition (a hand-made partition may hold several).
    TenantsProgress tenants;
    if (std::count(list_run.applied_kinds.begin(), list_run.applied_kinds.end(),
                   ActionKind::kCreateListPartition) > 0) {
      tenants.creation_seconds =
          std::chrono::duration<double>(clock_.monotonic_now() - started).count();
    }
    tenants.total = static_cast<int>(planned.plan.tenants.size());
    tenants.values_without_source = static_cast<int>(planned.plan.values_without_source.size());
    std::map<std::string, Outcome> sub_trees;  // by partition
    const std::map<std::string, ObservedSubTree> observed_sub_trees =
        policy.spec.has_interval() ? read_sub_trees(session, policy.spec, planned.table)
                                   : std::map<std::string, ObservedSubTree>{};
    bool in_progress = false;
    const auto not_ready = [&](const ListTenant& tenant, const std::string& reason,
                               const std::string& message) {
      in_progress = in_progress || !needs_human(reason);
      if (tenants.not_ready.size() < TenantsProgress::kMaxListed)
        tenants.not_ready.push_back(tenant.value + ": " + reason + ": " + message);
    };
    for (const ListTenant& tenant : planned.plan.tenants) {
      if (tenant.problem) {
        outcome.findings.push_back(*tenant.problem);
        not_ready(tenant, tenant.problem->reason, tenant.problem->message);
        continue;
      }
      if (!tenant.exists) {
        not_ready(tenant, "PartitionPending", tenant.partition.display() + " is not created yet");
        continue;
      }
      if (!tenant.sub_tree) {
        ++tenants.ready;
        continue;
      }
      auto done = sub_trees.find(tenant.partition.display());
      if (done == sub_trees.end()) {
        if (stop_requested_ && stop_requested_()) {
          not_ready(tenant, "Stopped", "the reconcile stopped before this tenant");
          continue;
        }
        const Policy sub_policy = sub_tree_policy(policy, tenant);
        Outcome sub_tree;
        if (auto quiet = quiet_sub_tree(sub_policy, observed_sub_trees, planned.server)) {
          sub_tree = std::move(*quiet);
        } else {
          try {
            sub_tree =
                PartitionReconciler(clock_, stop_requested_).reconcile(session, sub_policy, mode);
          } catch (const std::exception& error) {
            sub_tree = outcome_of_error(base_outcome(sub_policy), "reconciling", error);
          }
        }
        add_sub_tree(outcome, sub_tree, sub_trees.empty());
        done = sub_trees.emplace(tenant.partition.display(), std::move(sub_tree)).first;
      }
      const Outcome& sub_tree = done->second;
      if (sub_tree.ready()) {
        ++tenants.ready;
      } else {
        for (const auto& finding : sub_tree.findings) outcome.findings.push_back(finding);
        const Condition* ready = sub_tree.condition("Ready");
        not_ready(tenant, sub_tree.ready_reason(), ready ? ready->message : "");
      }
    }

    // 3. The list level again, for what the sub-trees made possible.
    const bool changed = !list_run.applied.empty() ||
                         std::any_of(sub_trees.begin(), sub_trees.end(),
                                     [](const auto& s) { return !s.second.actions_taken.empty(); });
    Execution final_run;
    if (act && changed && !list_run.stopped) {
      planned = observe_and_plan(session, policy);
      final_run = Executor(session, guards, stop_requested_).execute(planned.plan.plan.actions);
      record_run(outcome, final_run);
      if (!final_run.applied.empty()) planned = observe_and_plan(session, policy);
    }
    for (const auto& finding : planned.plan.plan.findings) outcome.findings.push_back(finding);
    const LayoutFigures& list_figures = planned.plan.plan.figures;
    if (!policy.spec.has_interval()) outcome.figures.partition_count = list_figures.partition_count;
    outcome.figures.default_rows += list_figures.default_rows;
    outcome.figures.invalid_indexes += list_figures.invalid_indexes;
    outcome.tenants = tenants;

    // Conditions: the list level's own troubles first, then the tenants'.
    const Execution& last_run =
        final_run.applied.empty() && final_run.failures.empty() && !final_run.stopped ? list_run
                                                                                      : final_run;
    for (const auto& summary : last_run.not_run) outcome.actions_pending.push_back(summary);
    const Finding* problem = first_problem(planned.plan.plan.findings);
    const std::string table = policy.spec.table.display();
    if (last_run.stopped) {
      outcome.findings.push_back(*last_run.stopped);
      outcome.retry_with_backoff = true;
      set_summary_conditions(outcome, false, last_run.stopped->reason, last_run.stopped->message,
                             !needs_human(last_run.stopped->reason));
    } else if (!last_run.failures.empty()) {
      outcome.retry_with_backoff = true;
      set_summary_conditions(outcome, false, "ActionFailed", last_run.failures.front(), true);
    } else if (problem != nullptr) {
      set_summary_conditions(outcome, false, problem->reason, problem->message, false);
    } else if (planned.server.in_recovery && !planned.plan.plan.actions.empty()) {
      set_summary_conditions(outcome, false, "ReadOnlyStandby",
                             "connected to a standby (in recovery): the list level's " +
                                 std::to_string(planned.plan.plan.actions.size()) +
                                 " action(s) need the primary",
                             false);
    } else if (!planned.plan.plan.actions.empty()) {
      // Not run (observe mode, suspended), or still planned after applying (retried).
      const bool suspended = mode == ReconcileMode::kApply && policy.spec.suspend;
      if (act) {
        outcome.retry_with_backoff = true;
        for (const auto& action : planned.plan.plan.actions)
          outcome.actions_pending.push_back(action.summary);
      }
      set_summary_conditions(outcome, false, suspended ? "Suspended" : "ActionsPending",
                             std::to_string(planned.plan.plan.actions.size()) +
                                 " action(s) on the list level " +
                                 (suspended ? "wait: the policy is suspended"
                                  : act     ? "still planned after applying; will retry"
                                            : "pending"),
                             !suspended);
    } else if (tenants.ready < tenants.total) {
      if (in_progress) outcome.retry_with_backoff = true;
      set_summary_conditions(outcome, false, "TenantsNotReady",
                             std::to_string(tenants.total - tenants.ready) + " of " +
                                 std::to_string(tenants.total) + " tenant(s) of " + table +
                                 " not ready; first: " + tenants.not_ready.front(),
                             in_progress);
    } else {
      set_summary_conditions(outcome, true, "Reconciled",
                             std::to_string(tenants.total) + " tenant(s), each with its partition" +
                                 (policy.spec.has_interval() ? " tree" : "") +
                                 " as the policy declares",
                             false);
    }
    return outcome;
  } catch (const DatabaseError& error) {
    return database_error_outcome(policy, error);
  }
}

Outcome reconcile_policy(DatabaseSession& session, const Policy& policy, ReconcileMode mode,
                         const Clock& clock, StopRequested stop_requested) {
  if (policy.spec.list)
    return ListPartitionReconciler(clock, std::move(stop_requested))
        .reconcile(session, policy, mode);
  return PartitionReconciler(clock, std::move(stop_requested)).reconcile(session, policy, mode);
}

}  // namespace partop
