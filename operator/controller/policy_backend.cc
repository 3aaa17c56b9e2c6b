#include "operator/controller/policy_backend.h"

#include "operator/runtime/log.h"

namespace partop::controller {

void log_outcome(const nlohmann::json& object, const Outcome& outcome) {
  const nlohmann::json& metadata = object.value("metadata", nlohmann::json::object());
  const Condition* ready = outcome.condition("Ready");
  runtime::log(outcome.ready() ? runtime::LogLevel::kInfo : runtime::LogLevel::kWarning,
               "reconciled",
               {{"namespace", metadata.value("namespace", "")},
                {"policy", metadata.value("name", "")},
                {"table", outcome.table},
                {"ready", outcome.ready()},
                {"reason", outcome.ready_reason()},
                {"message", ready ? ready->message : ""},
                {"actions", outcome.actions_taken},
                {"rowsDrained", outcome.rows_drained}});
}

std::string FixedDsnBackend::report(const nlohmann::json& object, const Outcome& outcome) {
  log_outcome(object, outcome);
  return "";
}

}  // namespace partop::controller
