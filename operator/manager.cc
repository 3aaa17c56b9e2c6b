#include "operator/manager.h"

#include <unistd.h>

#include "operator/controller/partition_backfill_controller.h"
#include "operator/controller/partition_migration_controller.h"
#include "operator/controller/partition_policy_controller.h"
#include "operator/kube/kube_client.h"
#include "operator/runtime/log.h"
#include "operator/runtime/manager.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/pg_session.h"
#include "reconcilers/partition/session_pool.h"

namespace partop {
namespace {

using runtime::log;
using runtime::LogLevel;

std::string default_identity() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "_" + std::to_string(::getpid());
}

}  // namespace

int run_operator(const OperatorOptions& options, const std::atomic<bool>& stop) {
  kube::Config config;
  try {
    config = options.kubeconfig.empty() ? kube::in_cluster_config()
                                        : kube::load_kubeconfig(options.kubeconfig);
  } catch (const std::exception& error) {
    log(LogLevel::kError, "cannot load Kubernetes configuration", {{"error", error.what()}});
    return 2;
  }
  const auto client = kube::make_http_client(config);
  const std::string identity = default_identity();

  runtime::ManagerOptions manager_options;
  manager_options.namespaces = options.namespaces;
  manager_options.metrics_bind_address = options.metrics_bind_address;
  manager_options.health_probe_bind_address = options.health_probe_bind_address;
  if (options.leader_elect) {
    runtime::LeaderElectionConfig election;
    election.lease_namespace = options.leader_election_namespace.empty()
                                   ? config.namespace_name
                                   : options.leader_election_namespace;
    election.lease_name = options.leader_election_id;
    election.identity = identity;
    manager_options.leader_election = election;
  }
  runtime::Manager manager(manager_options, system_clock(), client.get());
  PgConnector postgres;
  SessionPool connector(postgres, {static_cast<size_t>(options.max_connections_per_database),
                                   kIdleConnectionTimeout});
  PgNotificationConnector notifications;

  // One line per kind.
  controller::register_partition_policy_operator(
      manager, {connector, notifications, postgres, options.database_check_interval}, identity,
      options.max_concurrent_reconciles);
  controller::register_sliced_operator<controller::MigrationKind>(
      manager, connector, identity, options.max_concurrent_reconciles);
  controller::register_sliced_operator<controller::BackfillKind>(manager, connector, identity,
                                                                 options.max_concurrent_reconciles);

  log(LogLevel::kInfo, "operator started",
      {{"identity", identity},
       {"namespaces", options.namespaces},
       {"leaderElect", options.leader_elect},
       {"workers", options.max_concurrent_reconciles},
       {"maxConnectionsPerDatabase", options.max_connections_per_database},
       {"databaseCheckIntervalSeconds", options.database_check_interval.count() / 1000.0}});
  const int code = manager.run(stop);
  if (code == 0) log(LogLevel::kInfo, "operator stopped", {{"identity", identity}});
  return code;
}

}  // namespace partop
