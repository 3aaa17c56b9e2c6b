#include "reconcilers/backfill/policy_ref.h"

namespace partop {
namespace {

using nlohmann::json;

const json& spec_of(const json& document) {
  static const json kEmpty = json::object();
  const auto it = document.find("spec");
  return it != document.end() && it->is_object() ? *it : kEmpty;
}

ResolvedDocument unresolved(std::string reason, std::string message) {
  return {std::nullopt, std::move(reason), std::move(message)};
}

}  // namespace

std::optional<std::string> referenced_policy(const json& backfill) {
  const json& spec = spec_of(backfill);
  const auto ref = spec.find("policyRef");
  if (ref == spec.end() || !ref->is_object()) return std::nullopt;
  const auto name = ref->find("name");
  if (name == ref->end() || !name->is_string() || name->get<std::string>().empty())
    return std::nullopt;
  return name->get<std::string>();
}

ResolvedDocument resolve_policy_ref(const json& backfill, const FindPolicy& find_policy) {
  const json& spec = spec_of(backfill);
  if (!spec.contains("policyRef")) return {backfill, "", ""};
  const auto name = referenced_policy(backfill);
  if (!name) {
    return unresolved("InvalidSpec",
                      "spec.policyRef: must be {name: <a PartitionPolicy's name>}, got " +
                          spec["policyRef"].dump());
  }
  if (spec.contains("table")) {
    return unresolved("InvalidSpec",
                      "spec.policyRef: give table or policyRef, not both (policyRef names the "
                      "table through PartitionPolicy " +
                          *name + ")");
  }
  const std::optional<json> policy = find_policy(*name);
  if (!policy) {
    return unresolved("PolicyNotFound", "spec.policyRef: no PartitionPolicy named " + *name +
                                            " (the backfill waits for it)");
  }
  const json& policy_spec = spec_of(*policy);
  const auto table = policy_spec.find("table");
  if (table == policy_spec.end() || !table->is_string()) {
    return unresolved("InvalidSpec",
                      "spec.policyRef: PartitionPolicy " + *name + " names no table (spec.table)");
  }
  json resolved = backfill;
  json& out = resolved["spec"];
  out.erase("policyRef");
  out["table"] = *table;
  for (const char* inherited : {"databaseRef", "guards"}) {
    if (!out.contains(inherited) && policy_spec.contains(inherited))
      out[inherited] = policy_spec[inherited];
  }
  return {std::move(resolved), "", ""};
}

}  // namespace partop
