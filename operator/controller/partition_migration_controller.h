// PartitionMigration in the operator: a SlicedController (see sliced_controller.h) running the
// migration engine for one slice of copying at a time, its status showing phase and progress.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/sliced_controller.h"
#include "reconcilers/migration/migration_reconciler.h"

namespace partop::controller {

inline constexpr const char* kMigrationKind = "PartitionMigration";

struct MigrationKind {
  static constexpr const char* kKind = kMigrationKind;
  static constexpr const char* kPlural = "partitionmigrations";
  static constexpr const char* kController = "partitionmigration";
  using Resource = Migration;
  using Engine = MigrationReconciler;
  static std::optional<Migration> parse(const nlohmann::json& object, std::string& errors);
  // A migration refers to no other object.
  static ResolvedDocument resolve(const nlohmann::json& object, const runtime::ObjectStore&) {
    return {object, "", ""};
  }
  // A migration keeps its table's claim for as long as it exists: its target may flip.
  static bool done(const nlohmann::json&) { return false; }
  static constexpr runtime::RemainingWork kRemainingWork = runtime::RemainingWork::kMigrationRows;
  static std::optional<double> remaining(const Outcome& outcome) {
    if (!outcome.migration) return std::nullopt;
    return static_cast<double>(outcome.migration->rows_remaining);
  }
};

using PartitionMigrationController = SlicedController<MigrationKind>;

inline const runtime::Resource& partition_migrations() {
  return sliced_resource<MigrationKind>();
}

}  // namespace partop::controller
