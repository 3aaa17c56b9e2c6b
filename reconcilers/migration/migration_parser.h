// Turns PartitionMigration documents (YAML, or JSON objects from the Kubernetes API) into
// validated Migration values, with every problem reported with the path of its field. Checks that
// need the database (the table, its key column, its constraints) are the planner's.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconcilers/document/field_reader.h"
#include "reconcilers/migration/migration.h"

namespace partop {

inline constexpr std::string_view kMigrationKind = "PartitionMigration";

struct ParsedMigration {
  std::string name;  // metadata.name when readable
  std::optional<Migration> migration;
  std::vector<FieldError> errors;
  bool ok() const { return migration.has_value(); }
  std::string error_summary() const;  // all errors on one line
};

ParsedMigration parse_migration(const nlohmann::json& object);

}  // namespace partop
