// Reconciles one PartitionPolicy object by key: parses it, resolves its database through the
// PolicyBackend, refuses a second claim on a table (Conflict), runs the partition engine, and
// reports the outcome (backend, metrics, one log line). Deleting a policy never touches the
// database: the data is the user's; work in flight stops at its next step boundary (WorkStop).
//
// What the controller does with the key afterwards follows the outcome: a deferral by a guard
// (lock, replication lag, another runner) retries on the short guard backoff; any other failure
// to reach the goal retries on the long error backoff; a state that needs a human (Stalled) or a
// Ready policy is looked at again after its resync interval; an invalid spec waits for an edit.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/policy_backend.h"
#include "operator/runtime/manager.h"
#include "operator/runtime/metrics.h"
#include "operator/runtime/object_store.h"
#include "operator/runtime/reconciler.h"
#include "operator/runtime/table_claims.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/executor.h"
#include "reconcilers/partition/notification_listener.h"
#include "reconcilers/partition/outcome.h"
#include "reconcilers/partition/reconciler.h"

namespace partop::controller {

// The PartitionPolicy collection (cluster scope path; namespaces are the manager's).
const runtime::Resource& partition_policies();

class PartitionPolicyController : public runtime::Reconciler {
 public:
  PartitionPolicyController(const runtime::ObjectStore& policies,
                            const runtime::TableClaims& claims,
                            std::unique_ptr<PolicyBackend> backend, DatabaseConnector& connector,
                            const Clock& clock, runtime::Metrics& metrics,
                            runtime::StopReason stop_reason,
                            ReconcileMode mode = ReconcileMode::kApply,
                            std::optional<std::chrono::milliseconds> slice = std::nullopt);

  runtime::Result reconcile(const std::string& key) override;

 private:
  Outcome run_engine(const Policy& policy, const std::string& dsn, const StopRequested& stop);
  void record_metrics(const std::string& ns, const std::string& name, const Outcome& outcome);

  const runtime::ObjectStore& policies_;
  const runtime::TableClaims& claims_;
  std::unique_ptr<PolicyBackend> backend_;
  DatabaseConnector& connector_;
  const Clock& clock_;
  runtime::Metrics& metrics_;
  runtime::StopReason stop_reason_;
  ReconcileMode mode_;
  // A reconcile yields after this much work, reports InProgress and asks to continue (under a
  // manager, whose queue continues it); none: it runs to the end (`partop apply`).
  std::optional<std::chrono::milliseconds> slice_;
};

inline constexpr const char* kPolicyKind = "PartitionPolicy";

// Registers PartitionPolicy objects of `policies` as claims on their tables; `backend` resolves
// their databases and must outlive `claims`.
void add_policy_claims(runtime::TableClaims& claims, const runtime::ObjectStore& policies,
                       const PolicyBackend& backend);

// What the controller does with a policy's key after an engine outcome (see the file comment);
// a Ready or Stalled policy is looked at again after the outcome's requeue_after.
runtime::Result next_after(const Outcome& outcome);

// Adds the PartitionPolicy controller to `manager`, watching the manager's source of
// partition_policies(), and the notices of list values heard through `notifications`
// (ListValueNotifications), and reporting through `backend`.
runtime::Controller& add_partition_policy_controller(runtime::Manager& manager,
                                                     std::unique_ptr<PolicyBackend> backend,
                                                     DatabaseConnector& connector,
                                                     NotificationConnector& notifications,
                                                     int workers);

// How the operator's PartitionPolicy controller reaches its databases.
struct PolicyDatabases {
  DatabaseConnector& connector;              // the reconciles' (a session pool)
  NotificationConnector& notifications;      // list value notices
  DatabaseConnector& probes;                 // DatabaseReachability's own connections
  std::chrono::milliseconds check_interval;  // of DatabaseReachability; zero: no probes
};

// The operator's registration: policies and Secrets from the API server (a Secret change queues
// the policies naming it), databases probed for reachability (a change queues the policies
// using the database), outcomes reported by a KubePolicyBackend.
void register_partition_policy_operator(runtime::Manager& manager, const PolicyDatabases& databases,
                                        const std::string& instance, int workers);

}  // namespace partop::controller
