// Readers of the spec fields that PartitionPolicy and the kinds built on it share — the table,
// the interval, declared indexes, guards and databaseRef — so that each means the same thing and
// is refused with the same message whichever document it appears in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconcilers/document/field_reader.h"
#include "reconcilers/partition/policy.h"

namespace partop {

// `key` as name or schema.name (schema public), each a SQL identifier, not a system schema.
std::optional<QualifiedName> read_table_name(ObjectReader& spec, std::string_view key = "table");
// hourly..yearly, or a positive integer width.
std::optional<IntervalSpec> read_interval(ObjectReader& spec);
// A list of column names (SQL identifiers).
std::vector<std::string> read_identifier_list(ObjectReader& reader, std::string_view key);
// spec.indexes: name, columns, unique, method, include, where.
std::vector<IndexSpec> read_indexes(ObjectReader& spec, std::vector<FieldError>& errors);
// spec.guards, over the defaults already in `guards`; then the cross-field rule that no
// statement timeout is shorter than lockTimeout.
void read_guards(const nlohmann::json& object, const std::string& path, GuardSpec& guards,
                 std::vector<FieldError>& errors);
// spec.databaseRef: secretName (a Kubernetes object name) and key (default "uri").
std::optional<DatabaseRef> read_database_ref(const nlohmann::json& object, const std::string& path,
                                             std::vector<FieldError>& errors);

}  // namespace partop
