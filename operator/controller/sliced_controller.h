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
//   static std::optional<Resource> parse(const json& object, std::string& errors);
//   static bool done(const json& object);  // finished for good at its generation: claims nothing
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/kube_policy_backend.h"
#include "operator/controller/policy_backend.h"
#include "operator/controller/table_claim.h"
#include "operator/runtime/manager.h"
#include "operator/runtime/object_store.h"
#include "operator/runtime/reconciler.h"
#include "operator/runtime/table_claims.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/executor.h"
#include "reconcilers/partition/reconciler.h"

namespace partop::controller {

// How long one reconcile may keep working before it yields its worker.
inline constexpr std::chrono::seconds kWorkSlice{5};

// What the controller does with the key after a slice: continue at once when work is left,
// retry a guard deferral on the short backoff and other failures on the long one, look again
// later otherwise.
runtime::Result next_after_slice(const Outcome& outcome);

// The outcome for an object that cannot run: its database cannot be resolved (SecretNotFound)
// or another object rewrites its table (Conflict).
Outcome not_run_outcome(const std::string& key, const std::string& table, const std::string& reason,
                        const std::string& message);

inline constexpr std::chrono::seconds kNotRunRetry{30};

template <typename Kind>
class SlicedController : public runtime::Reconciler {
 public:
  SlicedController(const runtime::ObjectStore& objects, const runtime::TableClaims& claims,
                   std::unique_ptr<PolicyBackend> backend, DatabaseConnector& connector,
                   const Clock& clock, StopRequested stop_requested,
                   std::chrono::milliseconds slice = kWorkSlice)
      : objects_(objects),
        claims_(claims),
        backend_(std::move(backend)),
        connector_(connector),
        clock_(clock),
        stop_requested_(std::move(stop_requested)),
        slice_(slice) {}

  runtime::Result reconcile(const std::string& key) override {
    const auto object = objects_.get(key);
    if (!object || (*object)["metadata"].contains("deletionTimestamp"))
      return runtime::Result::done();
    std::string errors;
    const std::optional<typename Kind::Resource> parsed = Kind::parse(*object, errors);
    Outcome outcome;
    runtime::Result result;
    if (!parsed) {
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
          outcome = typename Kind::Engine(clock_, stop_requested_, slice_)
                        .reconcile(*session, *parsed, ReconcileMode::kApply);
        } catch (const DatabaseError& error) {
          outcome = not_run_outcome(key, table, "DatabaseUnavailable", error.what());
          outcome.retry_with_backoff = true;
        }
        result = next_after_slice(outcome);
      }
    }
    backend_->report(*object, outcome);
    return result;
  }

 private:
  const runtime::ObjectStore& objects_;
  const runtime::TableClaims& claims_;
  std::unique_ptr<PolicyBackend> backend_;
  DatabaseConnector& connector_;
  const Clock& clock_;
  StopRequested stop_requested_;
  std::chrono::milliseconds slice_;
};

// Registers the kind's objects of `objects` as claims on their tables (role "rewrite": one
// migration or backfill of a table at a time; an object done for good claims nothing); `backend`
// resolves their databases and must outlive `claims`.
template <typename Kind>
void add_rewrite_claims(runtime::TableClaims& claims, const runtime::ObjectStore& objects,
                        const PolicyBackend& backend) {
  claims.add_kind(
      table_claim(Kind::kKind, "rewrite", objects, backend,
                  [](const nlohmann::json& object) -> std::optional<std::optional<DatabaseRef>> {
                    std::string errors;
                    const auto parsed = Kind::parse(object, errors);
                    if (!parsed || Kind::done(object)) return std::nullopt;
                    return parsed->spec.database_ref;
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
  add_rewrite_claims<Kind>(manager.claims(), objects.store(), *backend);
  auto reconciler = std::make_unique<SlicedController<Kind>>(
      objects.store(), manager.claims(), std::move(backend), connector, manager.clock(),
      manager.stop_requested());
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
