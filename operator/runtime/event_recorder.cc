#include "operator/runtime/event_recorder.h"

#include <ctime>

#include "operator/runtime/log.h"

namespace partop::runtime {
namespace {

using nlohmann::json;
constexpr auto kAggregationWindow = std::chrono::minutes(10);
constexpr size_t kMaxMessageBytes = 1024;

}  // namespace

std::string rfc3339(std::chrono::system_clock::time_point time) {
  const std::time_t now = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

EventRecorder::EventRecorder(kube::Client& client, std::string component, std::string instance,
                             const Clock& clock)
    : client_(client),
      component_(std::move(component)),
      instance_(std::move(instance)),
      clock_(clock) {}

void EventRecorder::record(const json& object, const std::string& type, const std::string& reason,
                           const std::string& message) {
  const json& metadata = object.at("metadata");
  const std::string ns = metadata.value("namespace", "default");
  const std::string text =
      message.size() > kMaxMessageBytes ? message.substr(0, kMaxMessageBytes) : message;
  const std::string key = metadata.value("uid", "") + "\n" + type + "\n" + reason + "\n" + text;
  const std::string now = rfc3339(clock_.now());
  const auto steady_now = clock_.monotonic_now();
  const std::string events_path = "/api/v1/namespaces/" + ns + "/events";

  std::unique_lock<std::mutex> lock(mutex_);
  auto it = recent_.find(key);
  if (it != recent_.end() && steady_now - it->second.last < kAggregationWindow) {
    Recorded& recorded = it->second;
    recorded.count += 1;
    recorded.last = steady_now;
    const json patch = {{"count", recorded.count}, {"lastTimestamp", now}};
    const std::string name = recorded.name;
    lock.unlock();
    const kube::Response response =
        client_.request(kube::Method::kPatch, events_path + "/" + name, patch, kube::kMergePatch);
    if (response.ok()) return;
    lock.lock();
    recent_.erase(key);  // gone (expired by the server): create a fresh one below
    lock.unlock();
  } else {
    lock.unlock();
  }
  const json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"generateName", metadata.value("name", "object") + "."}, {"namespace", ns}}},
      {"involvedObject",
       {{"apiVersion", object.value("apiVersion", "")},
        {"kind", object.value("kind", "")},
        {"name", metadata.value("name", "")},
        {"namespace", ns},
        {"uid", metadata.value("uid", "")},
        {"resourceVersion", metadata.value("resourceVersion", "")}}},
      {"reason", reason},
      {"message", text},
      {"type", type},
      {"source", {{"component", component_}}},
      {"reportingComponent", component_},
      {"reportingInstance", instance_},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1}};
  const kube::Response response = client_.request(kube::Method::kPost, events_path, event);
  if (!response.ok()) {
    log(LogLevel::kWarning, "cannot record event",
        {{"reason", reason}, {"status", response.status}, {"error", response.error}});
    return;
  }
  lock.lock();
  recent_[key] = {response.body["metadata"].value("name", ""), 1, steady_now};
  // Bound the memory: drop aggregation state older than the window.
  for (auto entry = recent_.begin(); entry != recent_.end();) {
    entry = steady_now - entry->second.last > kAggregationWindow ? recent_.erase(entry)
                                                                 : std::next(entry);
  }
}

}  // namespace partop::runtime
