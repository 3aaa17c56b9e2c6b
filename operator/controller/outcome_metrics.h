// What a reconcile's outcome tells the metrics, whatever the kind: the DDL it applied, a lock
// timeout, a guard that deferred it on purpose, a failure.
#pragma once

#include <string>

#include "operator/runtime/metrics.h"
#include "reconcilers/partition/outcome.h"

namespace partop::controller {

// The guard behind a deliberate deferral ("lock", "replication_lag", "advisory_lock",
// "concurrent_update", "storage"); "" when `reason` is not one.
std::string guard_name(const std::string& reason);

void record_steps(runtime::Metrics& metrics, const Outcome& outcome);

// The reason `outcome` fell short of its goal, for partop_reconcile_errors_total: its Ready
// reason, or "" when it is Ready or deferred on purpose — a guard (except storage, which does not
// free itself), a closed maintenance window, long work continuing or pausing, suspended, a
// shutdown.
std::string failure_of(const Outcome& outcome);

}  // namespace partop::controller
