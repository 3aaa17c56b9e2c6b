// Why one reconcile's work stops at its next step boundary: the manager no longer acts (shutdown,
// leadership lost — Manager::stop_reason) or the object being reconciled was deleted, or replaced
// by a new object under the same name, while the work ran. A reconcile that was stopped reports
// nothing (no status, no Event: after the lease is lost another process owns the objects, and a
// deleted object has no status to write) and logs one line saying why it stopped.
//
// With a work slice, the engine is also asked to stop once the slice is over (never before its
// first step, so every slice makes progress): the reconcile then reports its progress and asks to
// continue behind the keys already queued, so a long first reconcile shows in .status as it goes
// and never holds a worker for long.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/runtime/manager.h"
#include "operator/runtime/object_store.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/executor.h"

namespace partop::controller {

// How long one reconcile may keep working before it yields its worker.
inline constexpr std::chrono::seconds kWorkSlice{5};

class WorkStop {
 public:
  // `object`: as the reconcile read it from `objects`; `manager`: empty means never; `slice`
  // (measured on `clock`): none means the work is not sliced.
  WorkStop(const runtime::ObjectStore& objects, const nlohmann::json& object,
           runtime::StopReason manager, const Clock& clock,
           std::optional<std::chrono::milliseconds> slice = std::nullopt);

  // For the engine, asked at every step boundary.
  StopRequested requested() const;
  // True once the engine was told to stop because the slice was over.
  bool slice_ended() const { return slice_ended_; }
  // Why the work must stop, "" while it may go on.
  std::string reason() const;
  // True when the work must stop; then logs the one line that says so, naming `controller`.
  bool stopped(const std::string& controller) const;

 private:
  const runtime::ObjectStore& objects_;
  std::string key_;
  std::string uid_;
  runtime::StopReason manager_;
  const Clock& clock_;
  std::optional<std::chrono::steady_clock::time_point> slice_end_;
  mutable bool first_step_asked_ = false;
  mutable bool slice_ended_ = false;
};

}  // namespace partop::controller
