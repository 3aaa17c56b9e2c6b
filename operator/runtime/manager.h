// The process that runs controllers, in the manner of controller-runtime's manager: it owns the
// shared sources (one cache per resource, however many controllers watch it), the metrics, the
// /healthz /readyz /metrics server and, when configured, Lease leader election. Controllers are
// active only while this process may act (always without leader election, only while leading
// with it); losing the lease or a shutdown asks running reconciles to stop at their next step
// boundary and joins them before anything else happens.
//
// Adding a kind is a registration: ask source() for the resources it watches, add_controller()
// with its reconciler, and wire the watches.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operator/kube/kube_client.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/informer_source.h"
#include "operator/runtime/leader_election.h"
#include "operator/runtime/metrics.h"
#include "operator/runtime/table_claims.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/executor.h"

namespace partop::runtime {

// Why work must stop, or "" while it may go on.
using StopReason = std::function<std::string()>;

struct ManagerOptions {
  std::vector<std::string> namespaces;  // scope of informer sources; empty: all namespaces
  // "0" or empty: no listener. One listener when both are equal.
  std::string metrics_bind_address;
  std::string health_probe_bind_address;
  std::optional<LeaderElectionConfig> leader_election;  // needs an API client
};

class Manager {
 public:
  // `client` may be null for a manager whose sources are all given to add_source (files).
  Manager(ManagerOptions options, const Clock& clock, kube::Client* client);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // The shared source of `resource`: the one given to add_source, else informers on the API
  // server created on first request. Throws std::logic_error without a client.
  Source& source(const Resource& resource);
  void add_source(const Resource& resource, std::unique_ptr<Source> source);
  Controller& add_controller(ControllerOptions options, std::unique_ptr<Reconciler> reconciler);
  // The usual shape of a kind's controller: `workers` workers, named `name`, queued by the
  // spec changes of the objects of `primary` (watch_for).
  Controller& add_controller_for(Source& primary, std::string name, int workers,
                                 std::unique_ptr<Reconciler> reconciler);

  Metrics& metrics() { return metrics_; }
  // Which resource manages which table, across every registered kind.
  TableClaims& claims() { return claims_; }
  const Clock& clock() const { return clock_; }
  // Throws std::logic_error when the manager has no API client.
  kube::Client& client();
  // Why this process may not act now — "shutting down", "leadership lost" — or "" while it may:
  // long work stops at its next step boundary once it is not empty.
  StopReason stop_reason() const;
  bool synced() const;

  // Runs until `stop`: starts the sources, serves probes, waits for the caches, then runs the
  // controllers while active. Returns 0 after a clean shutdown, 2 when a probe address cannot be
  // bound.
  int run(const std::atomic<bool>& stop);

 private:
  void activate();
  void deactivate();
  std::string render_metrics();

  ManagerOptions options_;
  const Clock& clock_;
  kube::Client* client_;
  Metrics metrics_;
  TableClaims claims_;
  std::map<std::string, std::unique_ptr<Source>> sources_;  // by Resource::id()
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::atomic<bool> active_{false};
  std::atomic<bool> stopping_{false};
  const std::atomic<bool>* stop_ = nullptr;  // run()'s, while it runs
};

}  // namespace partop::runtime
