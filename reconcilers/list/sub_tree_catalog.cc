#include "reconcilers/list/sub_tree_catalog.h"

#include "reconcilers/list/list_planner.h"
#include "reconcilers/partition/catalog_reader.h"
#include "reconcilers/partition/sql_text.h"

namespace partop {

std::map<std::string, ObservedSubTree> read_sub_trees(DatabaseSession& session,
                                                      const PolicySpec& spec,
                                                      const ObservedListTable& table) {
  std::map<std::string, ObservedSubTree> out;
  const auto key_type = key_type_from_sql(table.time_key_type_name);
  if (!spec.list || !key_type) return out;
  for (const ObservedListPartition& partition : table.partitions) {
    if (partition.partitioned && partition.strategy == "range" &&
        partition.sub_key_column == spec.list->time_key) {
      out[partition.name.display()].table = sub_tree_table(spec, table, partition.name);
    }
  }
  if (out.empty()) return out;

  const std::string children =
      "IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass($1))";
  const std::string parent = sql::qualified(spec.table);
  for (auto& [name, partitions] : read_partitions_of(session, children, parent, *key_type)) {
    if (auto it = out.find(name); it != out.end())
      it->second.table.partitions = std::move(partitions);
  }
  for (auto& [name, indexes] : read_indexes_of(session, children, parent)) {
    if (auto it = out.find(name); it != out.end()) {
      it->second.table.indexes = std::move(indexes.indexes);
      it->second.table.partition_indexes = std::move(indexes.partition_indexes);
    }
  }
  // Whether each DEFAULT holds rows, in one statement.
  std::string probe;
  std::vector<std::string> names;
  for (auto& [name, sub_tree] : out) {
    if (const ObservedPartition* default_partition = sub_tree.table.default_partition()) {
      probe += (probe.empty() ? "" : " UNION ALL ") + std::string("SELECT ") +
               std::to_string(names.size()) + ", EXISTS (SELECT 1 FROM ONLY " +
               sql::qualified(default_partition->name) + ")";
      names.push_back(name);
    }
  }
  if (!probe.empty()) {
    for (const auto& row : session.query(probe)) {
      out[names.at(std::stoul(text_or_empty(row[0])))].default_has_rows =
          text_or_empty(row[1]) == "t";
    }
  }
  return out;
}

}  // namespace partop
