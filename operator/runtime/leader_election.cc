#include "operator/runtime/leader_election.h"

#include <ctime>
#include <thread>

#include "operator/runtime/log.h"

namespace partop::runtime {
namespace {

using nlohmann::json;

// metav1.MicroTime: RFC 3339 with microseconds, UTC.
std::string micro_time(std::chrono::system_clock::time_point now) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  const size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string fraction = std::to_string(1000000 + micros).substr(1);
  return std::string(buffer, length) + "." + fraction + "Z";
}

}  // namespace

LeaderElector::LeaderElector(kube::Client& client, LeaderElectionConfig config, const Clock& clock)
    : client_(client), config_(std::move(config)), clock_(clock) {}

std::string LeaderElector::lease_path() const {
  return "/apis/coordination.k8s.io/v1/namespaces/" + config_.lease_namespace + "/leases";
}

bool LeaderElector::try_acquire_or_renew() {
  other_holder_.clear();
  const auto now = clock_.monotonic_now();
  const std::string time = micro_time(clock_.now());
  const kube::Response current =
      client_.request(kube::Method::kGet, lease_path() + "/" + config_.lease_name);
  if (current.status == 404) {
    const json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec",
         {{"holderIdentity", config_.identity},
          {"leaseDurationSeconds", config_.lease_duration.count()},
          {"acquireTime", time},
          {"renewTime", time},
          {"leaseTransitions", 0}}}};
    const kube::Response created = client_.request(kube::Method::kPost, lease_path(), lease);
    if (created.ok()) {
      observed_spec_ = lease["spec"];
      observed_at_ = now;
    }
    return created.ok();
  }
  if (!current.ok()) {
    log(LogLevel::kWarning, "cannot read leader Lease",
        {{"status", current.status}, {"error", current.error}});
    return false;
  }
  json lease = current.body;
  json& spec = lease["spec"];
  if (spec != observed_spec_) {  // the record changed: restart the expiry clock
    observed_spec_ = spec;
    observed_at_ = now;
  }
  const std::string holder = spec.value("holderIdentity", "");
  const auto duration =
      std::chrono::seconds(spec.value("leaseDurationSeconds", config_.lease_duration.count()));
  const bool held_by_me = holder == config_.identity;
  const bool expired = holder.empty() || now >= observed_at_ + duration;
  if (!held_by_me && !expired) {
    other_holder_ = holder;
    return false;
  }
  if (!held_by_me) {
    spec["acquireTime"] = time;
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = config_.lease_duration.count();
  spec["renewTime"] = time;
  // PUT carries metadata.resourceVersion: a concurrent update by another candidate makes this
  // fail with 409 instead of both believing they lead.
  const kube::Response updated =
      client_.request(kube::Method::kPut, lease_path() + "/" + config_.lease_name, lease);
  if (updated.ok()) {
    observed_spec_ = spec;
    observed_at_ = now;
  }
  return updated.ok();
}

void LeaderElector::release() {
  const kube::Response current =
      client_.request(kube::Method::kGet, lease_path() + "/" + config_.lease_name);
  if (!current.ok() || current.body["spec"].value("holderIdentity", "") != config_.identity) return;
  json lease = current.body;
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = micro_time(clock_.now());
  const kube::Response updated =
      client_.request(kube::Method::kPut, lease_path() + "/" + config_.lease_name, lease);
  log(updated.ok() ? LogLevel::kInfo : LogLevel::kWarning, "leader Lease released",
      {{"identity", config_.identity}, {"status", updated.status}});
}

void LeaderElector::tick(const std::function<void()>& on_started,
                         const std::function<void()>& on_stopped) {
  const bool holds = try_acquire_or_renew();
  const auto now = clock_.monotonic_now();
  if (holds) {
    last_renewal_ = now;
    if (!leader_) {
      leader_ = true;
      log(LogLevel::kInfo, "became leader",
          {{"identity", config_.identity}, {"lease", config_.lease_name}});
      on_started();
    }
  } else if (leader_ && (!other_holder_.empty() || now - last_renewal_ > config_.renew_deadline)) {
    leader_ = false;
    log(LogLevel::kWarning, "lost leadership",
        {{"identity", config_.identity},
         {"why", other_holder_.empty() ? "the Lease was not renewed within the renew deadline"
                                       : "the Lease is held by " + other_holder_}});
    on_stopped();
  }
}

void LeaderElector::run(const std::atomic<bool>& stop, const std::function<void()>& on_started,
                        const std::function<void()>& on_stopped) {
  while (!stop) {
    tick(on_started, on_stopped);
    // Real sleeping in short steps, so `stop` is noticed at once.
    const auto until = std::chrono::steady_clock::now() + config_.retry_period;
    while (!stop && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (leader_) {
    leader_ = false;
    on_stopped();
    release();
  }
}

}  // namespace partop::runtime
