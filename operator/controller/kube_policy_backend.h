// The operator's PolicyBackend: the database URI comes from the Secret named by
// spec.databaseRef in the policy's namespace; an outcome is reported as the policy's .status
// (status subresource only, written when it changed), Events, and a "<policy>-partitions"
// ConfigMap owned by the policy.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "operator/controller/policy_backend.h"
#include "operator/kube/kube_client.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/manager.h"
#include "operator/runtime/object_store.h"
#include "reconcilers/partition/clock.h"

namespace partop::controller {

inline constexpr const char* kGroupVersion = "partop.dev/v1alpha1";

class KubePolicyBackend : public PolicyBackend {
 public:
  // `plural`: the resource whose objects it reports on ("partitionpolicies",
  // "partitionmigrations").
  KubePolicyBackend(kube::Client& client, const runtime::ObjectStore& secrets, std::string instance,
                    const Clock& clock, std::string plural = "partitionpolicies");

  ResolvedDsn resolve_dsn(const nlohmann::json& object,
                          const std::optional<DatabaseRef>& database_ref) const override;
  void report(const nlohmann::json& object, const Outcome& outcome) override;

 private:
  void write_status(const nlohmann::json& object, const Outcome& outcome);
  void record_events(const nlohmann::json& object, const Outcome& outcome);
  void write_partition_map(const nlohmann::json& object, const Outcome& outcome);

  kube::Client& client_;
  const runtime::ObjectStore& secrets_;
  const std::string plural_;
  const Clock& clock_;
  runtime::EventRecorder events_;
  std::mutex partition_maps_mutex_;
  std::map<std::string, nlohmann::json> partition_maps_;  // last written data, by ConfigMap key
};

// Keys of the policies in `policies` whose databaseRef names the Secret `secret_key`
// ("namespace/name").
std::vector<std::string> policies_using_secret(const runtime::ObjectStore& policies,
                                               const std::string& secret_key);

const runtime::Resource& secrets();

// The operator's registration of a kind whose objects name a Secret in spec.databaseRef:
// `add_controller` adds the kind's controller to the manager with the backend it is given (a
// KubePolicyBackend reporting on `resource`), and a change of a Secret queues the objects of
// `resource` naming it.
using AddController = std::function<runtime::Controller&(std::unique_ptr<PolicyBackend> backend)>;
void register_with_secrets(runtime::Manager& manager, const runtime::Resource& resource,
                           const std::string& instance, const AddController& add_controller);

}  // namespace partop::controller
