// The operator's PolicyBackend: the database URI comes from the Secret named by
// spec.databaseRef in the policy's namespace; an outcome is reported as the policy's .status
// (status subresource only, written when it changed), Events, and a "<policy>-partitions"
// ConfigMap owned by the policy.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "operator/controller/policy_backend.h"
#include "operator/kube/kube_client.h"
#include "operator/runtime/background_writes.h"
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
  // `writes`: how Events and the partition map are written — in the background (the operator:
  // a reconcile waits for its status write only) or inline, before report() returns (tests).
  enum class Writes { kInline, kBackground };
  KubePolicyBackend(kube::Client& client, const runtime::ObjectStore& secrets, std::string instance,
                    const Clock& clock, std::string plural = "partitionpolicies",
                    Writes writes = Writes::kInline);

  ResolvedDsn resolve_dsn(const nlohmann::json& object,
                          const std::optional<DatabaseRef>& database_ref) const override;
  std::string report(const nlohmann::json& object, const Outcome& outcome) override;

 private:
  // False when the status had to be written and was not (logged, and announced in an Event).
  bool write_status(const nlohmann::json& object, const Outcome& outcome);
  void record_events(const nlohmann::json& object, const Outcome& outcome);
  // `data`: partition_map_data() of the object and outcome.
  void write_partition_map(const nlohmann::json& object, const nlohmann::json& data);
  // The ConfigMap's PATCH (or POST when it does not exist yet). `reported_before`: the policy
  // has a status, so an earlier process may have written the map: it is read first, and not
  // written when it holds `data` already.
  void put_partition_map(const nlohmann::json& metadata, const std::string& ns,
                         const std::string& name, const std::string& key,
                         const nlohmann::json& data, bool reported_before);
  // Runs `write` now, or queues it in the background replacing a waiting write of `key`.
  void write_later(std::string key, std::function<void()> write);

  kube::Client& client_;
  const runtime::ObjectStore& secrets_;
  const std::string plural_;
  const Clock& clock_;
  runtime::EventRecorder events_;
  std::mutex partition_maps_mutex_;
  std::map<std::string, nlohmann::json> partition_maps_;  // last written data, by ConfigMap key
  // Declared last: destroyed first, running the writes still queued while the rest is alive.
  std::unique_ptr<runtime::BackgroundWrites> background_;
};

// The partition map ConfigMap's data for a policy `object` and the outcome of its reconcile (which
// has partitions and a key type): "table", "partitionCount" and "partitions.json"
// (partition_map.h).
nlohmann::json partition_map_data(const nlohmann::json& object, const Outcome& outcome);

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
