// spec.policyRef of a PartitionBackfill: instead of naming its table, a backfill may name the
// PartitionPolicy that maintains it ({name: <policy>}, in the backfill's namespace). The backfill
// then takes the policy's table, its databaseRef unless the backfill names its own, and its
// guards unless the backfill has its own. Resolution is a rewrite of the document before it is
// parsed, so that everything downstream (parser, claims, planner) sees an ordinary backfill.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "reconcilers/document/resolved_document.h"

namespace partop {

// Finds a PartitionPolicy document by name (the caller knows the namespace); nullopt when none.
using FindPolicy = std::function<std::optional<nlohmann::json>(const std::string& name)>;

// The backfill itself when it has no policyRef, else a copy with spec.policyRef replaced by what
// the policy says; InvalidSpec when policyRef is malformed or given together with table,
// PolicyNotFound when `find_policy` finds none.
ResolvedDocument resolve_policy_ref(const nlohmann::json& backfill, const FindPolicy& find_policy);

// The policy a backfill refers to, nullopt when it has no readable spec.policyRef.name.
std::optional<std::string> referenced_policy(const nlohmann::json& backfill);

}  // namespace partop
