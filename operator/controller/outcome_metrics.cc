#include "operator/controller/outcome_metrics.h"

namespace partop::controller {

std::string guard_name(const std::string& reason) {
  if (reason == "LockTimeout") return "lock";
  if (reason == "ReplicationLagHigh") return "replication_lag";
  if (reason == "Busy") return "advisory_lock";
  if (reason == "ConcurrentUpdate") return "concurrent_update";
  if (reason == "StorageQuotaExceeded") return "storage";
  return "";
}

void record_steps(runtime::Metrics& metrics, const Outcome& outcome) {
  for (ActionKind kind : outcome.applied_kinds)
    metrics.ddl_applied(std::string(action_kind_name(kind)));
  const std::string reason = outcome.ready_reason();
  if (reason == "LockTimeout") metrics.lock_timeout();
  if (const std::string guard = guard_name(reason); !guard.empty()) metrics.guard_blocked(guard);
}

std::string failure_of(const Outcome& outcome) {
  if (outcome.ready()) return "";
  const std::string reason = outcome.ready_reason();
  const std::string guard = guard_name(reason);
  if (!guard.empty() && guard != "storage") return "";
  if (reason == "InProgress" || reason == "Suspended" || reason == "ShuttingDown" ||
      reason == "MaintenanceWindowClosed")
    return "";
  return reason;
}

}  // namespace partop::controller
