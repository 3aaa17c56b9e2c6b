// Reconciles one PartitionPolicy against its database: reads the catalog, plans, acts under
// guards, re-reads, and reports an Outcome. Level-based and idempotent: a second run against an
// unchanged world plans nothing. Knows nothing of Kubernetes or HTTP.
#pragma once

#include <optional>

#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/executor.h"
#include "reconcilers/partition/guards.h"
#include "reconcilers/partition/outcome.h"
#include "reconcilers/partition/planner.h"
#include "reconcilers/partition/policy.h"

namespace partop {

enum class ReconcileMode {
  kApply,    // act (unless the policy is suspended)
  kObserve,  // read and report only
};

// What observation and planning produced, before anything is executed.
struct PlannedReconcile {
  ObservedServer server;
  ObservedTable table;
  std::optional<ReplicationLag> worst_lag;
  Plan plan;
};

class PartitionReconciler {
 public:
  explicit PartitionReconciler(const Clock& clock, StopRequested stop_requested = {})
      : clock_(clock), stop_requested_(std::move(stop_requested)) {}

  // Reads the world and plans. Throws DatabaseError when the database cannot be read; an unknown
  // maintenance-window time zone becomes a blocking InvalidSpec finding.
  PlannedReconcile observe_and_plan(DatabaseSession& session, const Policy& policy) const;

  // One full reconcile. Database failures become a DatabaseUnavailable outcome, never an
  // exception.
  Outcome reconcile(DatabaseSession& session, const Policy& policy, ReconcileMode mode) const;

 private:
  const Clock& clock_;
  StopRequested stop_requested_;
};

// An outcome naming the policy and its table, due again after the policy's resync interval.
Outcome base_outcome(const Policy& policy);
// The first finding that keeps the policy from being Ready (blocking before warning), if any.
const Finding* first_problem(const std::vector<Finding>& findings);

// For kApply on a policy that is not suspended, takes the table's TableLock into `lock`: an
// outcome (Busy, to retry) when another runner holds it, nullopt when the reconcile may go on.
std::optional<Outcome> lock_table_for_apply(DatabaseSession& session, const Policy& policy,
                                            ReconcileMode mode, std::optional<TableLock>& lock);
// The outcome of a DatabaseError that ended a reconcile while reading the table: LockTimeout (to
// retry), InsufficientPrivilege (not retried) or the connection's reason.
Outcome database_error_outcome(const Policy& policy, const DatabaseError& error);

// The outcome for a policy that could not be parsed, or whose database could not be reached.
Outcome invalid_spec_outcome(const std::string& policy_key, const std::string& message);
Outcome unavailable_outcome(const Policy& policy, const std::string& reason,
                            const std::string& message);
// The outcome for a policy whose table is already managed by another policy: not Ready,
// reason Conflict, no DDL.
Outcome conflict_outcome(const Policy& policy, const std::string& message);

}  // namespace partop
