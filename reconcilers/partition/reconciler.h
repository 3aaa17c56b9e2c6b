// Reconciles one PartitionPolicy against its database: reads the catalog, plans, acts under
// guards, re-reads, and reports an Outcome. Level-based and idempotent: a second run against an
// unchanged world plans nothing. Knows nothing of Kubernetes or HTTP.
#pragma once

#include <optional>

#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/executor.h"
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

// The outcome for a policy that could not be parsed, or whose database could not be reached.
Outcome invalid_spec_outcome(const std::string& policy_key, const std::string& message);
Outcome unavailable_outcome(const Policy& policy, const std::string& reason,
                            const std::string& message);
// The outcome for a policy whose table is already managed by another policy: not Ready,
// reason Conflict, no DDL.
Outcome conflict_outcome(const Policy& policy, const std::string& message);

}  // namespace partop
