#include "operator/controller/partition_migration_controller.h"

#include "reconcilers/migration/migration_parser.h"

namespace partop::controller {

std::optional<Migration> MigrationKind::parse(const nlohmann::json& object, std::string& errors) {
  ParsedMigration parsed = parse_migration(object);
  errors = parsed.error_summary();
  return std::move(parsed.migration);
}

}  // namespace partop::controller
