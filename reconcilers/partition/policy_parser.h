// Turns PartitionPolicy documents (YAML files, or JSON objects from the Kubernetes API) into
// validated Policy values. Defaults are applied here. Every problem is reported with the path of
// the field it concerns ("spec.guards.lockTimeout"); a document with any problem yields no Policy.
//
// Semantic checks that need the database (does the table exist, is the interval valid for its
// key type, do index columns exist) are the planner's; everything that can be judged from the
// document alone is judged here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconcilers/document/envelope.h"
#include "reconcilers/document/field_reader.h"
#include "reconcilers/document/yaml_documents.h"
#include "reconcilers/partition/policy.h"

namespace partop {

inline constexpr std::string_view kKind = "PartitionPolicy";

struct ParsedPolicy {
  std::string name;  // metadata.name when readable, else "document <n>"
  std::optional<Policy> policy;
  std::vector<FieldError> errors;
  bool ok() const { return policy.has_value(); }
  // All errors on one line, for conditions and exit messages.
  std::string error_summary() const;
};

// Validates one PartitionPolicy object.
ParsedPolicy parse_policy(const nlohmann::json& object);

// Parses every document of a YAML stream. A syntax error yields a single entry with the error.
std::vector<ParsedPolicy> parse_policy_yaml(std::string_view yaml_text);

// Reads a YAML file; an unreadable file yields a single entry naming the file.
std::vector<ParsedPolicy> parse_policy_file(const std::string& path);

}  // namespace partop
