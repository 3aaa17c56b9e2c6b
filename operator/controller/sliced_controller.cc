#include "operator/controller/sliced_controller.h"

#include "operator/controller/outcome_metrics.h"

namespace partop::controller {

runtime::Result next_after_slice(const Outcome& outcome) {
  using runtime::Result;
  if (outcome.ready_reason() == "ShuttingDown") return Result::done();
  if (outcome.more_work) return Result::continue_now();
  const Condition* stalled = outcome.condition("Stalled");
  if (!outcome.retry_with_backoff || (stalled != nullptr && stalled->status == "True"))
    return Result::requeue_after(outcome.requeue_after);
  if (const std::string guard = guard_name(outcome.ready_reason());
      !guard.empty() && guard != "storage")
    return Result::guard_deferred();
  return Result::error();
}

Outcome not_run_outcome(const std::string& key, const std::string& table, const std::string& reason,
                        const std::string& message) {
  Outcome outcome;
  outcome.policy = key;
  outcome.table = table;
  set_summary_conditions(outcome, false, reason, message, false);
  return outcome;
}

}  // namespace partop::controller
