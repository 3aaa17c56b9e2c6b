// Why one reconcile's work stops at its next step boundary: the manager no longer acts (shutdown,
// leadership lost — Manager::stop_reason) or the object being reconciled was deleted, or replaced
// by a new object under the same name, while the work ran. A reconcile that was stopped reports
// nothing (no status, no Event: after the lease is lost another process owns the objects, and a
// deleted object has no status to write) and logs one line saying why it stopped.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "operator/runtime/manager.h"
#include "operator/runtime/object_store.h"
#include "reconcilers/partition/executor.h"

namespace partop::controller {

class WorkStop {
 public:
  // `object`: as the reconcile read it from `objects`; `manager`: empty means never.
  WorkStop(const runtime::ObjectStore& objects, const nlohmann::json& object,
           runtime::StopReason manager);

  // For the engine, asked at every step boundary.
  StopRequested requested() const;
  // Why the work must stop, "" while it may go on.
  std::string reason() const;
  // True when the work must stop; then logs the one line that says so, naming `controller`.
  bool stopped(const std::string& controller) const;

 private:
  const runtime::ObjectStore& objects_;
  std::string key_;
  std::string uid_;
  runtime::StopReason manager_;
};

}  // namespace partop::controller
