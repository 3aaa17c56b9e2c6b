// Records core/v1 Events about objects, aggregating repeats as kubectl describe expects: the same
// (object, type, reason, message) within ten minutes bumps the existing Event's count and
// lastTimestamp instead of creating a new one.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"
#include "reconcilers/partition/clock.h"

namespace partop::runtime {

class EventRecorder {
 public:
  EventRecorder(kube::Client& client, std::string component, std::string instance,
                const Clock& clock = system_clock());

  // `type` is "Normal" or "Warning"; `reason` is UpperCamelCase. Failures are logged, not thrown.
  void record(const nlohmann::json& object, const std::string& type, const std::string& reason,
              const std::string& message);

 private:
  struct Recorded {
    std::string name;
    int count = 0;
    std::chrono::steady_clock::time_point last;
  };

  kube::Client& client_;
  std::string component_;
  std::string instance_;
  const Clock& clock_;
  std::mutex mutex_;
  std::map<std::string, Recorded> recent_;
};

// RFC 3339 UTC timestamp with seconds precision ("2026-11-21T07:30:00Z").
std::string rfc3339(std::chrono::system_clock::time_point time);

}  // namespace partop::runtime
