// Turns PartitionBackfill documents (YAML, or JSON objects from the Kubernetes API) into
// validated Backfill values, every problem reported with the path of its field. Checks that need
// the database (the table's key type, partition bounds, the source's columns) are the planner's.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconcilers/backfill/backfill.h"
#include "reconcilers/document/field_reader.h"

namespace partop {

inline constexpr std::string_view kBackfillKind = "PartitionBackfill";

struct ParsedBackfill {
  std::string name;  // metadata.name when readable
  std::optional<Backfill> backfill;
  std::vector<FieldError> errors;
  bool ok() const { return backfill.has_value(); }
  std::string error_summary() const { return partop::error_summary(errors); }
};

ParsedBackfill parse_backfill(const nlohmann::json& object);

// "2026-01-01", "2026-01-01T06:00:00Z", "2026-01-01 06:00:00", an integer (as a number or in
// digits): nullopt when it is none of them.
std::optional<RangeBound> parse_range_bound(const nlohmann::json& value);

}  // namespace partop
