// A Source that notices a database going away (or coming back) before any policy's resync does.
// Every `interval` it works out the databases the PartitionPolicies use (their Secrets resolved
// through the backend) and opens one short connection to each, running `SELECT 1`. When a
// database's answer changes — reachable to not, or back — or the first probe finds it
// unreachable, it delivers a change keyed by the database (its URI without password) whose object
// lists the policies using it; the PartitionPolicy controller queues those, so their conditions
// flip within about one interval instead of claiming Ready until the resync.
//
// One probe per database, shared by all its policies, sequential (each bounded by libpq's
// connect_timeout). A probe is a short connection of its own (`connector` is not the session
// pool), so a pool busy with long work neither delays it nor is disturbed by it.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "operator/controller/policy_backend.h"
#include "operator/runtime/informer_source.h"
#include "operator/runtime/keyed_store.h"
#include "operator/runtime/object_store.h"
#include "operator/runtime/source.h"
#include "reconcilers/partition/db_session.h"

namespace partop::controller {

// The manager's name for this source (no API resource).
const runtime::Resource& database_reachability();

inline constexpr std::chrono::seconds kDatabaseCheckInterval{60};

class DatabaseReachability : public runtime::Source {
 public:
  DatabaseReachability(const runtime::ObjectStore& policies, const PolicyBackend& backend,
                       DatabaseConnector& connector, std::chrono::milliseconds interval);

  // The last answer per database (its URI without password): {"database": ...,
  // "reachable": bool, "error": ..., "policies": [keys]}.
  const runtime::ObjectStore& store() const override { return answers_; }
  void add_handler(Handler handler) override;
  bool synced() const override { return true; }  // nothing to list first
  void run(const std::atomic<bool>& stop) override;

  // One round of probes (run() calls it every interval).
  void probe_all();

 private:
  // Database URI -> keys of the policies using it.
  std::map<std::string, std::vector<std::string>> databases() const;

  const runtime::ObjectStore& policies_;
  const PolicyBackend& backend_;
  DatabaseConnector& connector_;
  const std::chrono::milliseconds interval_;
  std::vector<Handler> handlers_;
  runtime::KeyedStore answers_;
};

// The keys of the policies a change of database_reachability() concerns.
std::vector<std::string> policies_of_database(const nlohmann::json* answer);

}  // namespace partop::controller
