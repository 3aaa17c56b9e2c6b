#include "reconcilers/partition/plan_checks.h"

#include <algorithm>
#include <set>

namespace partop {
namespace {

void blocking(std::vector<Finding>& findings, std::string reason, std::string message) {
  findings.push_back({Finding::Severity::kBlocking, std::move(reason), std::move(message)});
}

void invalid_spec(std::vector<Finding>& findings, const std::string& field,
                  const std::string& message) {
  blocking(findings, "InvalidSpec", field + ": " + message);
}

}  // namespace

bool check_table(const ObservedTable& table, std::vector<Finding>& findings) {
  const std::string name = table.name.display();
  if (!table.exists) {
    blocking(findings, "TableNotFound", "table " + name + " does not exist");
    return false;
  }
  if (!table.migration_phase.empty() && table.migration_phase != "Finalized") {
    blocking(findings, "MigrationInProgress",
             "a PartitionMigration of " + name + " is in phase " + table.migration_phase +
                 " and maintains its partitions; this policy takes over once it is finalized");
    return false;
  }
  if (table.relkind != 'p') {
    blocking(findings, "TableNotPartitioned",
             name + " is not a partitioned table (relkind '" + std::string(1, table.relkind) +
                 "'); declare it PARTITION BY RANGE on one column");
    return false;
  }
  if (table.strategy != "range") {
    blocking(findings, "UnsupportedPartitionKey",
             name + " is partitioned by " + table.strategy + "; partop manages RANGE partitioning");
    return false;
  }
  if (table.key_column_count != 1 || table.key_column.empty()) {
    blocking(findings, "UnsupportedPartitionKey",
             name + " has a partition key of " + std::to_string(table.key_column_count) +
                 " column(s)" + (table.key_column.empty() ? " or an expression" : "") +
                 "; partop needs exactly one plain column");
    return false;
  }
  if (!table.key_type) {
    blocking(findings, "UnsupportedPartitionKey",
             name + " is partitioned on " + table.key_column + " of type " + table.key_type_name +
                 "; supported key types are timestamptz, timestamp, date, integer and bigint");
    return false;
  }
  return true;
}

bool check_spec_against_table(const PolicySpec& spec, const ObservedTable& table,
                              std::vector<Finding>& findings) {
  const size_t before = findings.size();
  if (!spec.has_interval()) {
    invalid_spec(findings, "spec.interval",
                 "is required: " + table.name.display() + " is partitioned by range");
    return false;
  }
  const bool time_key = is_time_key(*table.key_type);
  const std::string key_desc =
      "key column " + table.key_column + " is " + std::string(key_type_sql_name(*table.key_type));
  if (time_key && !spec.interval.unit) {
    invalid_spec(findings, "spec.interval",
                 "\"" + spec.interval.text + "\" is an integer width but the " + key_desc +
                     "; use hourly, daily, weekly, monthly, quarterly or yearly");
  }
  if (!time_key && spec.interval.unit) {
    invalid_spec(findings, "spec.interval",
                 "\"" + spec.interval.text + "\" is a calendar interval but the " + key_desc +
                     "; use a positive integer width");
  }
  if (*table.key_type == KeyType::kDate && spec.interval.unit == TimeUnit::kHour) {
    invalid_spec(findings, "spec.interval",
                 "hourly partitions need a timestamp key but the " + key_desc);
  }
  check_index_columns(spec.indexes, table, {table.key_column}, findings);
  return findings.size() == before;
}

void check_index_columns(const std::vector<IndexSpec>& indexes, const ObservedTable& table,
                         const std::vector<std::string>& key_columns,
                         std::vector<Finding>& findings) {
  const std::set<std::string> columns(table.columns.begin(), table.columns.end());
  for (size_t i = 0; i < indexes.size(); ++i) {
    const IndexSpec& index = indexes[i];
    const std::string field = "spec.indexes[" + std::to_string(i) + "]";
    for (const auto* list : {&index.columns, &index.include, &index.where_columns}) {
      for (const std::string& column : *list) {
        if (!columns.count(column)) {
          invalid_spec(findings, field,
                       "column " + column + " does not exist in " + table.name.display());
        }
      }
    }
    if (!index.unique) continue;
    for (const std::string& key : key_columns) {
      if (std::find(index.columns.begin(), index.columns.end(), key) == index.columns.end()) {
        invalid_spec(findings, field + ".unique",
                     "a unique index on a partitioned table must contain the "
                     "partition key column " +
                         key + " (PostgreSQL cannot enforce it otherwise)");
      }
    }
  }
}

}  // namespace partop
