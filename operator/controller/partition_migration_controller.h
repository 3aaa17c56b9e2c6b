// Reconciles one PartitionMigration object by key: parses it, resolves its database through the
// backend, refuses a second migration of the same table (Conflict), runs the migration engine
// for one bounded slice, and reports the outcome (status with phase and progress, Events, one log
// line). A slice that ends with work left asks to continue now, behind the keys already queued,
// so a long copy never holds a worker and SIGTERM stops it between two batches. Deleting the
// object never touches the database.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "operator/controller/policy_backend.h"
#include "operator/runtime/manager.h"
#include "operator/runtime/object_store.h"
#include "operator/runtime/reconciler.h"
#include "operator/runtime/table_claims.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/executor.h"

namespace partop::controller {

inline constexpr const char* kMigrationKind = "PartitionMigration";
// How long one reconcile of a migration may keep copying before it yields its worker.
inline constexpr std::chrono::seconds kMigrationSlice{5};

const runtime::Resource& partition_migrations();

class PartitionMigrationController : public runtime::Reconciler {
 public:
  PartitionMigrationController(const runtime::ObjectStore& migrations,
                               const runtime::TableClaims& claims,
                               std::unique_ptr<PolicyBackend> backend, DatabaseConnector& connector,
                               const Clock& clock, StopRequested stop_requested,
                               std::chrono::milliseconds slice = kMigrationSlice);

  runtime::Result reconcile(const std::string& key) override;

 private:
  const runtime::ObjectStore& migrations_;
  const runtime::TableClaims& claims_;
  std::unique_ptr<PolicyBackend> backend_;
  DatabaseConnector& connector_;
  const Clock& clock_;
  StopRequested stop_requested_;
  std::chrono::milliseconds slice_;
};

// Registers PartitionMigration objects of `migrations` as claims on their tables (role
// "rewrite"); `backend` resolves their databases and must outlive `claims`.
void add_migration_claims(runtime::TableClaims& claims, const runtime::ObjectStore& migrations,
                          const PolicyBackend& backend);

// Adds the PartitionMigration controller to `manager`, watching the manager's source of
// partition_migrations() and reporting through `backend`.
runtime::Controller& add_partition_migration_controller(runtime::Manager& manager,
                                                        std::unique_ptr<PolicyBackend> backend,
                                                        DatabaseConnector& connector, int workers);

// The operator's registration: migrations and Secrets from the API server, outcomes reported
// by a KubePolicyBackend on partitionmigrations.
void register_partition_migration_operator(runtime::Manager& manager, DatabaseConnector& connector,
                                           const std::string& instance, int workers);

}  // namespace partop::controller
