#include "operator/controller/partition_migration_controller.h"

#include "operator/controller/kube_policy_backend.h"
#include "operator/controller/partition_policy_controller.h"
#include "operator/controller/table_claim.h"
#include "reconcilers/migration/migration_parser.h"
#include "reconcilers/migration/migration_reconciler.h"

namespace partop::controller {
namespace {

using nlohmann::json;
using runtime::Result;

constexpr std::chrono::seconds kSecretRetry{30};
constexpr std::chrono::seconds kConflictRetry{30};

Outcome base_outcome(const std::string& key, const std::string& table) {
  Outcome outcome;
  outcome.policy = key;
  outcome.table = table;
  return outcome;
}

// What the controller does with the key after a slice: continue a copy at once, retry a guard
// deferral on the short backoff and other failures on the long one, look again later otherwise.
Result next_after_slice(const Outcome& outcome) {
  if (outcome.ready_reason() == "ShuttingDown") return Result::done();
  if (outcome.more_work) return Result::continue_now();
  const Condition* stalled = outcome.condition("Stalled");
  if (!outcome.retry_with_backoff || (stalled != nullptr && stalled->status == "True"))
    return Result::requeue_after(outcome.requeue_after);
  const std::string reason = outcome.ready_reason();
  if (reason == "LockTimeout" || reason == "ReplicationLagHigh" || reason == "Busy" ||
      reason == "ConcurrentUpdate")
    return Result::guard_deferred();
  return Result::error();
}

}  // namespace

const runtime::Resource& partition_migrations() {
  static const runtime::Resource resource{std::string("/apis/") + kGroupVersion,
                                          "partitionmigrations"};
  return resource;
}

PartitionMigrationController::PartitionMigrationController(
    const runtime::ObjectStore& migrations, const runtime::TableClaims& claims,
    std::unique_ptr<PolicyBackend> backend, DatabaseConnector& connector, const Clock& clock,
    StopRequested stop_requested, std::chrono::milliseconds slice)
    : migrations_(migrations),
      claims_(claims),
      backend_(std::move(backend)),
      connector_(connector),
      clock_(clock),
      stop_requested_(std::move(stop_requested)),
      slice_(slice) {}

void add_migration_claims(runtime::TableClaims& claims, const runtime::ObjectStore& migrations,
                          const PolicyBackend& backend) {
  claims.add_kind(table_claim(kMigrationKind, "rewrite", migrations, backend,
                              [](const json& object) -> std::optional<std::optional<DatabaseRef>> {
                                const ParsedMigration parsed = parse_migration(object);
                                if (!parsed.ok()) return std::nullopt;
                                return parsed.migration->spec.database_ref;
                              }));
}

Result PartitionMigrationController::reconcile(const std::string& key) {
  const auto object = migrations_.get(key);
  if (!object || (*object)["metadata"].contains("deletionTimestamp")) return Result::done();
  const ParsedMigration parsed = parse_migration(*object);
  Outcome outcome;
  Result result;
  if (!parsed.ok()) {
    outcome = invalid_spec_outcome(key, parsed.error_summary());
    result = Result::done();  // waits for an edit of the spec
  } else {
    const Migration& migration = *parsed.migration;
    const std::string table = migration.spec.table.display();
    const ResolvedDsn dsn = backend_->resolve_dsn(*object, migration.spec.database_ref);
    if (!dsn.dsn) {
      outcome = base_outcome(key, table);
      set_summary_conditions(outcome, false, "SecretNotFound", dsn.problem, false);
      result = Result::requeue_after(kSecretRetry);
    } else if (auto owner =
                   claims_.owner_other_than(kMigrationKind, *object, table, redact_dsn(*dsn.dsn))) {
      outcome = base_outcome(key, table);
      set_summary_conditions(outcome, false, "Conflict",
                             "table " + table + " of this database is already being rewritten by " +
                                 *owner + "; this migration runs no DDL",
                             false);
      result = Result::requeue_after(kConflictRetry);
    } else {
      try {
        const auto session = connector_.connect(*dsn.dsn, migration.spec.guards.lock_timeout);
        outcome = MigrationReconciler(clock_, stop_requested_, slice_)
                      .reconcile(*session, migration, ReconcileMode::kApply);
      } catch (const DatabaseError& error) {
        outcome = base_outcome(key, table);
        outcome.retry_with_backoff = true;
        set_summary_conditions(outcome, false, "DatabaseUnavailable", error.what(), false);
      }
      result = next_after_slice(outcome);
    }
  }
  backend_->report(*object, outcome);
  return result;
}

runtime::Controller& add_partition_migration_controller(runtime::Manager& manager,
                                                        std::unique_ptr<PolicyBackend> backend,
                                                        DatabaseConnector& connector, int workers) {
  runtime::Source& migrations = manager.source(partition_migrations());
  add_migration_claims(manager.claims(), migrations.store(), *backend);
  auto reconciler = std::make_unique<PartitionMigrationController>(
      migrations.store(), manager.claims(), std::move(backend), connector, manager.clock(),
      manager.stop_requested());
  return manager.add_controller_for(migrations, "partitionmigration", workers,
                                    std::move(reconciler));
}

void register_partition_migration_operator(runtime::Manager& manager, DatabaseConnector& connector,
                                           const std::string& instance, int workers) {
  register_with_secrets(manager, partition_migrations(), instance,
                        [&](std::unique_ptr<PolicyBackend> backend) -> runtime::Controller& {
                          return add_partition_migration_controller(manager, std::move(backend),
                                                                    connector, workers);
                        });
}

}  // namespace partop::controller
