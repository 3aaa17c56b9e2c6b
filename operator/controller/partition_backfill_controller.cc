#include "operator/controller/partition_backfill_controller.h"

#include "reconcilers/backfill/backfill_parser.h"
#include "reconcilers/backfill/policy_ref.h"

namespace partop::controller {

std::optional<Backfill> BackfillKind::parse(const nlohmann::json& object, std::string& errors) {
  ParsedBackfill parsed = parse_backfill(object);
  errors = parsed.error_summary();
  return std::move(parsed.backfill);
}

ResolvedDocument BackfillKind::resolve(const nlohmann::json& object,
                                       const runtime::ObjectStore& policies) {
  const std::string namespace_name =
      object.value("metadata", nlohmann::json::object()).value("namespace", "");
  return resolve_policy_ref(object, [&](const std::string& name) {
    // Informer stores key objects "namespace/name", files (which have no namespaces) "name".
    if (!namespace_name.empty()) {
      if (auto policy = policies.get(namespace_name + "/" + name)) return policy;
    }
    return policies.get(name);
  });
}

bool BackfillKind::done(const nlohmann::json& object) {
  const nlohmann::json status = object.value("status", nlohmann::json::object());
  if (!status.is_object()) return false;
  const int64_t generation =
      object.value("metadata", nlohmann::json::object()).value("generation", int64_t{0});
  if (status.value("observedGeneration", int64_t{-1}) != generation) return false;
  for (const auto& condition : status.value("conditions", nlohmann::json::array())) {
    if (condition.value("type", "") == "Ready")
      return condition.value("status", "") == "True" && condition.value("reason", "") == "Complete";
  }
  return false;
}

}  // namespace partop::controller
