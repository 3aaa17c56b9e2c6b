#include "reconcilers/migration/migration_parser.h"

#include "reconcilers/document/envelope.h"
#include "reconcilers/partition/spec_fields.h"

namespace partop {
namespace {

using nlohmann::json;

MigrationSpec read_spec(const json& object, std::vector<FieldError>& errors) {
  ObjectReader reader(object, "spec", errors);
  MigrationSpec spec;
  reader.require("table");
  if (auto table = read_table_name(reader)) spec.table = *table;
  reader.require("partitionKey");
  if (auto key = reader.string("partitionKey")) {
    if (is_valid_identifier(*key)) {
      spec.partition_key = *key;
    } else {
      reader.error("partitionKey",
                   "must be a column name (SQL identifier), got " + quote_value(*key));
    }
  }
  reader.require("interval");
  if (auto interval = read_interval(reader)) spec.interval = *interval;
  spec.premake = static_cast<int>(reader.integer("premake", 1, 1000).value_or(3));
  if (auto strategy = reader.string("strategy")) {
    if (*strategy == "copy") {
      spec.strategy = MigrationStrategy::kCopy;
    } else if (*strategy == "move") {
      spec.strategy = MigrationStrategy::kMove;
    } else {
      reader.error("strategy", "must be copy or move, got " + quote_value(*strategy));
    }
  }
  if (auto target = reader.string("target")) {
    if (*target == "Partitioned") {
      spec.target = MigrationTarget::kPartitioned;
    } else if (*target == "Original") {
      spec.target = MigrationTarget::kOriginal;
    } else {
      reader.error("target", "must be Partitioned or Original, got " + quote_value(*target));
    }
  }
  spec.finalize = reader.boolean("finalize").value_or(false);
  spec.batch_size = reader.integer("batchSize", 1, 1'000'000).value_or(10000);
  spec.pause_between = reader.duration("pauseBetween", true).value_or(spec.pause_between);
  spec.indexes = read_indexes(reader, errors);
  spec.accept_per_partition_uniqueness =
      read_identifier_list(reader, "acceptPerPartitionUniqueness");
  if (const json* value = reader.object("guards")) {
    read_guards(*value, reader.field_path("guards"), spec.guards, errors);
  }
  if (const json* value = reader.object("databaseRef")) {
    spec.database_ref = read_database_ref(*value, reader.field_path("databaseRef"), errors);
  }
  reader.finish();
  return spec;
}

}  // namespace

std::string_view strategy_name(MigrationStrategy strategy) {
  return strategy == MigrationStrategy::kCopy ? "copy" : "move";
}

std::string_view target_name(MigrationTarget target) {
  return target == MigrationTarget::kPartitioned ? "Partitioned" : "Original";
}

std::string ParsedMigration::error_summary() const {
  return partop::error_summary(errors);
}

ParsedMigration parse_migration(const json& object) {
  ParsedMigration result;
  Migration migration;
  const bool valid = read_resource(object, kMigrationKind, result.errors, migration, read_spec);
  result.name = migration.name;
  if (valid) result.migration = std::move(migration);
  return result;
}

}  // namespace partop
