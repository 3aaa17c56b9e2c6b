// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: a
// candidate takes the Lease when it is free or its holder has not renewed it for
// lease_duration (judged by this process's own clock since it last saw the record change, so
// clocks need not agree), renews it every retry_period, and gives up leadership when it could not
// renew within renew_deadline. On shutdown the Lease is released so a standby takes over at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"

namespace partop::runtime {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name = "partop-leader";
  std::string identity;  // unique per process, e.g. hostname_pid
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

class LeaderElector {
 public:
  LeaderElector(kube::Client& client, LeaderElectionConfig config);

  // Campaigns until `stop`. Calls on_started() when this process becomes leader and on_stopped()
  // when it stops being leader (lost lease or shutdown). Returns after releasing the Lease.
  void run(const std::atomic<bool>& stop, const std::function<void()>& on_started,
           const std::function<void()>& on_stopped);

  bool is_leader() const { return leader_; }

 private:
  // One attempt to acquire or renew; true when this process holds the Lease afterwards.
  bool try_acquire_or_renew();
  void release();
  std::string lease_path() const;

  kube::Client& client_;
  LeaderElectionConfig config_;
  std::atomic<bool> leader_{false};
  nlohmann::json observed_spec_;
  std::chrono::steady_clock::time_point observed_at_{};
};

}  // namespace partop::runtime
