#include "operator/controller/partition_policy_controller.h"

#include <algorithm>

#include "operator/controller/database_reachability.h"
#include "operator/controller/kube_policy_backend.h"
#include "operator/controller/list_value_notifications.h"
#include "operator/controller/outcome_metrics.h"
#include "operator/controller/table_claim.h"
#include "operator/controller/work_stop.h"
#include "operator/runtime/informer.h"
#include "reconcilers/list/list_reconciler.h"
#include "reconcilers/partition/policy_parser.h"
#include "reconcilers/partition/reconciler.h"

namespace partop::controller {
namespace {

using nlohmann::json;
using runtime::Result;

constexpr std::chrono::seconds kSecretRetry{30};
constexpr std::chrono::seconds kConflictRetry{30};

// The outcome of an engine stopped because its work slice was over, not the process: InProgress,
// with what this slice applied and what is pending, to go on behind the keys already queued.
void continue_after_slice(Outcome& outcome) {
  outcome.findings.erase(
      std::remove_if(outcome.findings.begin(), outcome.findings.end(),
                     [](const Finding& finding) { return finding.reason == "ShuttingDown"; }),
      outcome.findings.end());
  outcome.retry_with_backoff = false;
  set_summary_conditions(
      outcome, false, "InProgress",
      std::to_string(outcome.actions_taken.size()) + " step(s) applied in this slice, " +
          std::to_string(outcome.actions_pending.size()) + " pending: continuing",
      true);
}

bool is_stalled(const Outcome& outcome) {
  const Condition* stalled = outcome.condition("Stalled");
  return stalled != nullptr && stalled->status == "True";
}

}  // namespace

const runtime::Resource& partition_policies() {
  static const runtime::Resource resource{std::string("/apis/") + kGroupVersion,
                                          "partitionpolicies"};
  return resource;
}

Result next_after(const Outcome& outcome) {
  const std::string reason = outcome.ready_reason();
  if (reason == "ShuttingDown") return Result::done();  // the queue is going away
  if (!outcome.retry_with_backoff || is_stalled(outcome))
    return Result::requeue_after(outcome.requeue_after);
  // Guards that defer work on purpose clear on their own, so their retries are short; storage
  // does not free itself within seconds: it is retried on the long backoff.
  if (const std::string guard = guard_name(reason); !guard.empty() && guard != "storage")
    return Result::guard_deferred();
  return Result::error();
}

PartitionPolicyController::PartitionPolicyController(
    const runtime::ObjectStore& policies, const runtime::TableClaims& claims,
    std::unique_ptr<PolicyBackend> backend, DatabaseConnector& connector, const Clock& clock,
    runtime::Metrics& metrics, runtime::StopReason stop_reason, ReconcileMode mode,
    std::optional<std::chrono::milliseconds> slice)
    : policies_(policies),
      claims_(claims),
      backend_(std::move(backend)),
      connector_(connector),
      clock_(clock),
      metrics_(metrics),
      stop_reason_(std::move(stop_reason)),
      mode_(mode),
      slice_(slice) {}

void add_policy_claims(runtime::TableClaims& claims, const runtime::ObjectStore& policies,
                       const PolicyBackend& backend) {
  claims.add_kind(table_claim(kPolicyKind, "layout", policies, backend,
                              [](const json& object) -> std::optional<std::optional<DatabaseRef>> {
                                const ParsedPolicy parsed = parse_policy(object);
                                if (!parsed.ok()) return std::nullopt;
                                return parsed.policy->spec.database_ref;
                              }));
}

Outcome PartitionPolicyController::run_engine(const Policy& policy, const std::string& dsn,
                                              const StopRequested& stop) {
  try {
    const auto session = connector_.connect(dsn, policy.spec.guards.lock_timeout);
    return reconcile_policy(*session, policy, mode_, clock_, stop);
  } catch (const DatabaseError& error) {
    return unavailable_outcome(policy, error.unavailable_reason(), error.what());
  }
}

Result PartitionPolicyController::reconcile(const std::string& key) {
  const auto object = policies_.get(key);
  const auto [ns, name] = runtime::split_object_key(key);
  if (!object) {  // deleted: nothing is done to the database
    metrics_.remove_policy(ns, name);
    return Result::done();
  }
  if ((*object)["metadata"].contains("deletionTimestamp")) return Result::done();

  const WorkStop stop(policies_, *object, stop_reason_, clock_, slice_);
  const ParsedPolicy parsed = parse_policy(*object);
  Outcome outcome;
  Result result;
  if (!parsed.ok()) {
    outcome = invalid_spec_outcome(key, parsed.error_summary());
    result = Result::done();  // waits for an edit of the spec
  } else {
    const Policy& policy = *parsed.policy;
    const ResolvedDsn dsn = backend_->resolve_dsn(*object, policy.spec.database_ref);
    if (!dsn.dsn) {
      outcome = unavailable_outcome(policy, "SecretNotFound", dsn.problem);
      result = Result::requeue_after(kSecretRetry);
    } else if (auto owner = claims_.owner_other_than(
                   kPolicyKind, *object, policy.spec.table.display(), redact_dsn(*dsn.dsn))) {
      outcome = conflict_outcome(policy, "table " + policy.spec.table.display() +
                                             " of this database is already managed by " + *owner +
                                             "; this policy runs no DDL");
      result = Result::requeue_after(kConflictRetry);
    } else {
      outcome = run_engine(policy, *dsn.dsn, stop.requested());
      result = next_after(outcome);
      if (stop.slice_ended() && stop.reason().empty() && outcome.ready_reason() == "ShuttingDown") {
        continue_after_slice(outcome);
        result = Result::continue_now();
      }
    }
  }

  if (stop.stopped("partitionpolicy")) {
    record_steps(metrics_, outcome);
    return Result::done();
  }
  const std::string unreported = backend_->report(*object, outcome);
  record_metrics(ns, name, outcome);
  result.failure = failure_of(outcome);
  if (!unreported.empty()) {  // the status write is retried on the error backoff
    result = Result::error();
    result.failure = unreported;
  }
  return result;
}

void PartitionPolicyController::record_metrics(const std::string& ns, const std::string& name,
                                               const Outcome& outcome) {
  record_steps(metrics_, outcome);
  // A reconcile that read no catalog (database unreachable, table busy or missing, spec invalid)
  // knows no figures: the policy's series keep what was last observed (none before the first
  // observation) rather than claim 0 partitions and an empty DEFAULT.
  const bool observed = outcome.key_type.has_value() || outcome.tenants.has_value();
  if (!observed) return;
  runtime::PolicyFigures figures;
  figures.partitions = outcome.figures.partition_count;
  figures.default_rows = static_cast<double>(outcome.figures.default_rows);
  figures.replication_lag_seconds = outcome.replication_lag_seconds.value_or(0);
  if (outcome.figures.buffered_until && outcome.key_type && is_time_key(*outcome.key_type)) {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
    figures.buffer_seconds = static_cast<double>(*outcome.figures.buffered_until - now);
  }
  if (outcome.tenants) {
    figures.tenants = outcome.tenants->total;
    figures.tenants_not_ready = outcome.tenants->total - outcome.tenants->ready;
  }
  metrics_.set_policy(ns, name, figures);
}

runtime::Controller& add_partition_policy_controller(runtime::Manager& manager,
                                                     std::unique_ptr<PolicyBackend> backend,
                                                     DatabaseConnector& connector,
                                                     NotificationConnector& notifications,
                                                     int workers) {
  runtime::Source& policies = manager.source(partition_policies());
  const runtime::ObjectStore& policy_store = policies.store();
  add_policy_claims(manager.claims(), policy_store, *backend);
  // The manager destroys its controllers (and so the backend) only after its sources stopped.
  manager.add_source(list_value_notices(), std::make_unique<ListValueNotifications>(
                                               policy_store, *backend, notifications));
  auto reconciler = std::make_unique<PartitionPolicyController>(
      policy_store, manager.claims(), std::move(backend), connector, manager.clock(),
      manager.metrics(), manager.stop_reason(), ReconcileMode::kApply, kWorkSlice);
  runtime::Controller& controller =
      manager.add_controller_for(policies, "partitionpolicy", workers, std::move(reconciler));
  controller.watch_mapped(manager.source(list_value_notices()),
                          [&policy_store](const std::string& table, const json*) {
                            return list_policies_for_table(policy_store, table);
                          });
  return controller;
}

void register_partition_policy_operator(runtime::Manager& manager, const PolicyDatabases& databases,
                                        const std::string& instance, int workers) {
  register_with_secrets(
      manager, partition_policies(), instance,
      [&](std::unique_ptr<PolicyBackend> backend) -> runtime::Controller& {
        const PolicyBackend& resolver = *backend;  // owned by the controller from here on
        runtime::Controller& controller = add_partition_policy_controller(
            manager, std::move(backend), databases.connector, databases.notifications, workers);
        if (databases.check_interval.count() > 0) {
          manager.add_source(database_reachability(),
                             std::make_unique<DatabaseReachability>(
                                 manager.source(partition_policies()).store(), resolver,
                                 databases.probes, databases.check_interval));
          controller.watch_mapped(
              manager.source(database_reachability()),
              [](const std::string&, const json* answer) { return policies_of_database(answer); });
        }
        return controller;
      });
}

}  // namespace partop::controller
