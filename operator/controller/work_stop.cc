#include "operator/controller/work_stop.h"

#include "operator/runtime/informer.h"
#include "operator/runtime/log.h"

namespace partop::controller {

WorkStop::WorkStop(const runtime::ObjectStore& objects, const nlohmann::json& object,
                   runtime::StopReason manager)
    : objects_(objects),
      key_(runtime::object_key(object)),
      uid_(object["metadata"].value("uid", "")),
      manager_(std::move(manager)) {}

StopRequested WorkStop::requested() const {
  return [this] { return !reason().empty(); };
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
