// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: a
// candidate takes the Lease when it is free or its holder has not renewed it for
// lease_duration (judged by this process's own clock since it last saw the record change, so
// clocks need not agree), renews it every retry_period, and gives up leadership when it could not
// renew within renew_deadline, or at once when it finds the Lease held by another (taken over
// while this process was stalled or cut off: acting on would make two leaders). On shutdown the
// Lease is released so a standby takes over at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"
#include "reconcilers/partition/clock.h"

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
  LeaderElector(kube::Client& client, LeaderElectionConfig config,
                const Clock& clock = system_clock());

  // Campaigns until `stop`: tick() every retry_period. Returns after on_stopped() (when leading)
  // and releasing the Lease.
  void run(const std::atomic<bool>& stop, const std::function<void()>& on_started,
           const std::function<void()>& on_stopped);

  // One round: an attempt to acquire or renew the Lease, then on_started() when this process
  // has just become leader, or on_stopped() when it has not renewed within renew_deadline.
  void tick(const std::function<void()>& on_started, const std::function<void()>& on_stopped);
  // Gives the Lease up if this process holds it, so a standby takes over at once.
  void release();

  bool is_leader() const { return leader_; }

 private:
  // One attempt to acquire or renew; true when this process holds the Lease afterwards.
  bool try_acquire_or_renew();
  std::string lease_path() const;

  kube::Client& client_;
  LeaderElectionConfig config_;
  const Clock& clock_;
  std::chrono::steady_clock::time_point last_renewal_{};
  std::atomic<bool> leader_{false};
  nlohmann::json observed_spec_;
  std::string other_holder_;  // the holder of an unexpired Lease not ours, at the last attempt
  std::chrono::steady_clock::time_point observed_at_{};
};

}  // namespace partop::runtime
