// Reconciles one PartitionPolicy object: reads it and its database Secret from the informer
// caches, runs the partition engine against the database, and reports through .status (only the
// status subresource is written), Events, a "<policy>-partitions" ConfigMap owned by the policy,
// and metrics. Deleting a policy never touches the database: the data is the user's.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/metrics.h"
#include "operator/runtime/object_store.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/executor.h"
#include "reconcilers/partition/outcome.h"

namespace partop::controller {

inline constexpr const char* kGroupVersion = "partop.dev/v1alpha1";
inline constexpr const char* kPolicyResource = "partitionpolicies";

// What the worker does with the key afterwards.
struct ReconcileResult {
  enum class Next { kForget, kRequeueAfter, kBackoff };
  Next next = Next::kForget;
  std::chrono::milliseconds after{0};
};

class PartitionPolicyController {
 public:
  PartitionPolicyController(kube::Client& client, const runtime::ObjectStore& policies,
                            const runtime::ObjectStore& secrets, DatabaseConnector& connector,
                            const Clock& clock, runtime::EventRecorder& events,
                            runtime::Metrics& metrics, StopRequested stop_requested);

  ReconcileResult reconcile(const std::string& key);

  // Keys of the policies whose databaseRef names the Secret `secret_key` ("namespace/name").
  std::vector<std::string> policies_using_secret(const std::string& secret_key) const;

 private:
  struct ResolvedDsn {
    std::optional<std::string> dsn;
    std::string problem;  // why there is none
  };
  ResolvedDsn resolve_dsn(const nlohmann::json& policy_object, const Policy& policy) const;
  // The policy that already manages the same table of the same database, if it is not this one.
  std::optional<std::string> conflicting_owner(const nlohmann::json& object, const Policy& policy,
                                               const std::string& dsn) const;
  Outcome run_engine(const Policy& policy, const std::string& dsn);
  void write_status(const nlohmann::json& object, const Outcome& outcome, int64_t generation);
  void record_events(const nlohmann::json& object, const Outcome& outcome);
  void write_partition_map(const nlohmann::json& object, const Outcome& outcome);
  void record_metrics(const std::string& ns, const std::string& name, const Outcome& outcome);

  kube::Client& client_;
  const runtime::ObjectStore& policies_;
  const runtime::ObjectStore& secrets_;
  DatabaseConnector& connector_;
  const Clock& clock_;
  runtime::EventRecorder& events_;
  runtime::Metrics& metrics_;
  StopRequested stop_requested_;
  std::mutex partition_maps_mutex_;
  std::map<std::string, nlohmann::json> partition_maps_;  // last written data, by policy key
};

}  // namespace partop::controller
