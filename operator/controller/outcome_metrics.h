// What a reconcile's outcome tells the metrics, whatever the kind: the DDL it applied, a lock
// timeout, a guard that deferred it on purpose.
#pragma once

#include <string>

#include "operator/runtime/metrics.h"
#include "reconcilers/partition/outcome.h"

namespace partop::controller {

// The guard behind a deliberate deferral ("lock", "replication_lag", "advisory_lock",
// "concurrent_update", "storage"); "" when `reason` is not one.
std::string guard_name(const std::string& reason);

void record_steps(runtime::Metrics& metrics, const Outcome& outcome);

}  // namespace partop::controller
