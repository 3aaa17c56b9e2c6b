// A document whose references to other objects have been followed (a PartitionBackfill's
// policyRef replaced by what the policy says), ready to be parsed — or why it cannot be.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace partop {

struct ResolvedDocument {
  std::optional<nlohmann::json> document;  // nullopt when a reference cannot be followed
  // Why not: "InvalidSpec" (a malformed reference: the spec must change) or "<Kind>NotFound"
  // (the referenced object may appear later); the message names the field.
  std::string reason;
  std::string message;
};

}  // namespace partop
