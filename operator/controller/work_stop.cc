#include "operator/controller/work_stop.h"

#include "operator/runtime/informer.h"
#include "operator/runtime/log.h"

namespace partop::controller {

WorkStop::WorkStop(const runtime::ObjectStore& objects, const nlohmann::json& object,
                   runtime::StopReason manager, const Clock& clock,
                   std::optional<std::chrono::milliseconds> slice)
    : objects_(objects),
      key_(runtime::object_key(object)),
      uid_(object["metadata"].value("uid", "")),
      manager_(std::move(manager)),
      clock_(clock) {
  if (slice) slice_end_ = clock_.monotonic_now() + *slice;
}

StopRequested WorkStop::requested() const {
  return [this] {
    if (!reason().empty()) return true;
    if (!first_step_asked_) {  // the first step always runs: a slice that does nothing loops
      first_step_asked_ = true;
      return false;
    }
    if (slice_end_ && clock_.monotonic_now() >= *slice_end_) slice_ended_ = true;
    return slice_ended_;
  };
}

std::string WorkStop::reason() const {
  if (manager_) {
    if (std::string why = manager_(); !why.empty()) return why;
  }
  const auto current = objects_.get(key_);
  if (!current || (*current)["metadata"].contains("deletionTimestamp")) return "object deleted";
  if ((*current)["metadata"].value("uid", "") != uid_) return "object replaced";
  return "";
}

bool WorkStop::stopped(const std::string& controller) const {
  const std::string why = reason();
  if (why.empty()) return false;
  runtime::log(runtime::LogLevel::kInfo, "stopped at a step boundary",
               {{"controller", controller}, {"object", key_}, {"why", why}});
  return true;
}

}  // namespace partop::controller
