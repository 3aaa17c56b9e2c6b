// The controller of a kind whose work runs for hours in bounded slices (PartitionMigration,
// PartitionBackfill): reconciles one object by key — parses it, resolves its database through
// the backend, refuses a second object rewriting the same table (Conflict), runs the kind's
// engine for one slice, and reports the outcome (status, Events, one log line). A slice that ends
// with work left asks to continue now, behind the keys already queued, so one object never holds
// a worker and SIGTERM stops it between two steps. Deleting the object never touches the database.
//
// A kind is described by traits:
//   static constexpr const char* kKind;        // "PartitionMigration"
//   static constexpr const char* kPlural;      // "partitionmigrations"
//   static constexpr const char* kController;  // "partitionmigration", for logs and metrics
//   using Resource;                            // Migration
//   using Engine;  // Engine(clock, stop_requested, slice).reconcile(session, resource, kApply)
//   // The object with its references to PartitionPolicies followed (the object itself when it
//   // has none), or why not.
//   static ResolvedDocument resolve(const json& object, const runtime::ObjectStore& policies);
//   static std::optional<Resource> parse(const json& object, std::string& errors);
//   static bool done(const json& object);  // finished for good at its generation: claims nothing
//   static constexpr runtime::RemainingWork kRemainingWork;  // the gauge of work left
//   static std::optional<double> remaining(const Outcome&);  // its value, when the outcome says
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/kube_policy_backend.h"
#include "operator/controller/outcome_metrics.h"
#include "operator/controller/partition_policy_controller.h"
#include "operator/controller/policy_backend.h"
#include "operator/controller/table_claim.h"
#include "operator/controller/work_stop.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/manager.h"
#include "operator/runtime/metrics.h"
#include "operator/runtime/object_store.h"
#include "operator/runtime/reconciler.h"
#include "operator/runtime/table_claims.h"
#include "reconcilers/document/resolved_document.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/executor.h"
#include "reconcilers/partition/reconciler.h"

namespace partop::controller {

// What the controller does with the key after a slice: continue at once when work is left,
// retry a guard deferral on the short backoff and other failures on the long one, look again
// later otherwise.
runtime::Result next_after_slice(const Outcome& outcome);

// The outcome for an object that cannot run: a policy it refers to does not exist
// (PolicyNotFound), its database cannot be resolved (SecretNotFound) or another object rewrites
// its table (Conflict).
Outcome not_run_outcome(const std::string& key, const std::string& table, const std::string& reason,
                        const std::string& message);

inline constexpr std::chrono::seconds kNotRunRetry{30};

template <typename Kind>
class SlicedController : public runtime::Reconciler {
 public:
  // `policies`: the PartitionPolicies the objects may refer to.
  SlicedController(const runtime::ObjectStore& objects, const runtime::ObjectStore& policies,
                   const runtime::TableClaims& claims, std::unique_ptr<PolicyBackend> backend,
                   DatabaseConnector& connector, const Clock& clock, runtime::Metrics& metrics,
                   runtime::StopReason stop_reason, std::chrono::milliseconds slice = kWorkSlice)
      : objects_(objects),
        policies_(policies),
        claims_(claims),
        backend_(std::move(backend)),
        connector_(connector),
        clock_(clock),
        metrics_(metrics),
        stop_reason_(std::move(stop_reason)),
        slice_(slice) {}

  runtime::Result reconcile(const std::string& key) override {
    const auto object = objects_.get(key);
    const auto [ns, name] = runtime::split_object_key(key);
    if (!object) {  // deleted: nothing is done to the database
      metrics_.remove_remaining(Kind::kRemainingWork, ns, name);
      return runtime::Result::done();
    }
    if ((*object)["metadata"].contains("deletionTimestamp")) return runtime::Result::done();
    const WorkStop stop(objects_, *object, stop_reason_, clock_);
    const ResolvedDocument resolved = Kind::resolve(*object, policies_);
    std::string errors = resolved.message;
    const std::optional<typename Kind::Resource> parsed =
        resolved.document ? Kind::parse(*resolved.document, errors) : std::nullopt;
    Outcome outcome;
    runtime::Result result;
    if (!resolved.document && resolved.reason != "InvalidSpec") {
      outcome = not_run_outcome(key, "", resolved.reason, resolved.message);
      result = runtime::Result::requeue_after(kNotRunRetry);
    } else if (!parsed) {
      outcome = invalid_spec_outcome(key, errors);
      result = runtime::Result::done();  // waits for an edit of the spec
    } else {
      const std::string table = parsed->spec.table.display();
      const ResolvedDsn dsn = backend_->resolve_dsn(*object, parsed->spec.database_ref);
      if (!dsn.dsn) {
        outcome = not_run_outcome(key, table, "SecretNotFound", dsn.problem);
        result = runtime::Result::requeue_after(kNotRunRetry);
      } else if (auto owner =
                     claims_.owner_other_than(Kind::kKind, *object, table, redact_dsn(*dsn.dsn))) {
        outcome = not_run_outcome(key, table, "Conflict",
                                  "table " + table +
                                      " of this database is already being "
                                      "rewritten by " +
                                      *owner + "; this " + Kind::kKind + " runs no DDL");
        result = runtime::Result::requeue_after(kNotRunRetry);
      } else {
        try {
          const auto session = connector_.connect(*dsn.dsn, parsed->spec.guards.lock_timeout);
          outcome = typename Kind::Engine(clock_, stop.requested(), slice_)
                        .reconcile(*session, *parsed, ReconcileMode::kApply);
        } catch (const DatabaseError& error) {
          outcome = not_run_outcome(key, table, error.unavailable_reason(), error.what());
          outcome.retry_with_backoff = true;
        }
        result = next_after_slice(outcome);
      }
    }
    record_steps(metrics_, outcome);
    if (stop.stopped(Kind::kController)) return runtime::Result::done();
    const std::string unreported = backend_->report(*object, outcome);
    if (const auto left = Kind::remaining(outcome))
      metrics_.set_remaining(Kind::kRemainingWork, ns, name, *left);
    result.failure = failure_of(outcome);
    if (!unreported.empty()) {  // the status write is retried on the error backoff
      result = runtime::Result::error();
      result.failure = unreported;
    }
    return result;
  }

 private:
  const runtime::ObjectStore& objects_;
  const runtime::ObjectStore& policies_;
  const runtime::TableClaims& claims_;
  std::unique_ptr<PolicyBackend> backend_;
  DatabaseConnector& connector_;
  const Clock& clock_;
  runtime::Metrics& metrics_;
  runtime::StopReason stop_reason_;
  std::chrono::milliseconds slice_;
};

// Registers the kind's objects of `objects` as claims on their tables (role "rewrite": one
// migration or backfill of a table at a time; an object done for good claims nothing), read
// with their references to `policies` followed; `backend` resolves their databases; both must
// outlive `claims`.
template <typename Kind>
void add_rewrite_claims(runtime::TableClaims& claims, const runtime::ObjectStore& objects,
                        const runtime::ObjectStore& policies, const PolicyBackend& backend) {
  claims.add_kind(table_claim(
      Kind::kKind, "rewrite", objects, backend,
      [](const nlohmann::json& resolved) -> std::optional<std::optional<DatabaseRef>> {
        std::string errors;
        const auto parsed = Kind::parse(resolved, errors);
        if (!parsed || Kind::done(resolved)) return std::nullopt;
        return parsed->spec.database_ref;
      },
      [&policies](const nlohmann::json& object) {
        return Kind::resolve(object, policies).document;
      }));
}

template <typename Kind>
const runtime::Resource& sliced_resource() {
  static const runtime::Resource resource{std::string("/apis/") + kGroupVersion, Kind::kPlural};
  return resource;
}

// Adds the kind's controller to `manager`, watching the manager's source of its resource and
// reporting through `backend`.
template <typename Kind>
runtime::Controller& add_sliced_controller(runtime::Manager& manager,
                                           std::unique_ptr<PolicyBackend> backend,
                                           DatabaseConnector& connector, int workers) {
  runtime::Source& objects = manager.source(sliced_resource<Kind>());
  const runtime::ObjectStore& policies = manager.source(partition_policies()).store();
  add_rewrite_claims<Kind>(manager.claims(), objects.store(), policies, *backend);
  auto reconciler = std::make_unique<SlicedController<Kind>>(
      objects.store(), policies, manager.claims(), std::move(backend), connector, manager.clock(),
      manager.metrics(), manager.stop_reason());
  return manager.add_controller_for(objects, Kind::kController, workers, std::move(reconciler));
}

// The operator's registration: the kind's objects and Secrets from the API server, outcomes
// reported by a KubePolicyBackend on its resource.
template <typename Kind>
void register_sliced_operator(runtime::Manager& manager, DatabaseConnector& connector,
                              const std::string& instance, int workers) {
  register_with_secrets(manager, sliced_resource<Kind>(), instance,
                        [&](std::unique_ptr<PolicyBackend> backend) -> runtime::Controller& {
                          return add_sliced_controller<Kind>(manager, std::move(backend), connector,
                                                             workers);
                        });
}

}  // namespace partop::controller
