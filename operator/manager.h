// The operator process, in the manner of controller-runtime's manager: informers for
// PartitionPolicies and Secrets, a work queue with per-key backoff served by a bounded pool of
// workers, optional Lease leader election (only the leader reconciles), /healthz, /readyz and
// /metrics, and a graceful shutdown that finishes the running database step, releases the Lease
// and returns.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace partop {

struct OperatorOptions {
  std::string kubeconfig;               // empty: in-cluster service account
  std::vector<std::string> namespaces;  // empty: all namespaces
  std::string metrics_bind_address = ":8080";
  std::string health_probe_bind_address = ":8081";
  bool leader_elect = false;
  std::string leader_election_namespace;  // default: the kubeconfig's or pod's namespace
  std::string leader_election_id = "partop-leader";
  int max_concurrent_reconciles = 4;
  // Database sessions kept and reused per DSN, over every kind's workers.
  int max_connections_per_database = 4;
  // How often each database is probed for reachability (DatabaseReachability); zero: never.
  std::chrono::milliseconds database_check_interval = std::chrono::seconds(60);
};

// Runs until `stop` becomes true; returns the process exit code (0 after a clean shutdown).
int run_operator(const OperatorOptions& options, const std::atomic<bool>& stop);

}  // namespace partop
