#include "reconcilers/list/list_catalog.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "reconcilers/partition/catalog_reader.h"
#include "reconcilers/partition/sql_text.h"

namespace partop {
namespace {

constexpr auto text = text_or_empty;

std::string json_array(const std::vector<std::string>& values) {
  return nlohmann::json(values).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

ObservedListTable read_list_table(DatabaseSession& session, const PolicySpec& spec) {
  ObservedListTable observed;
  observed.parent = read_table(session, spec);
  const ObservedTable& parent = observed.parent;
  if (!parent.exists || parent.strategy != "list" || parent.key_column_count != 1 ||
      parent.key_column != spec.list->column || !supported_list_key_type(parent.key_type_name))
    return observed;  // the planner says why

  const std::string oid =
      text(session.query("SELECT $1::regclass::oid", {sql::qualified(spec.table)})[0][0]);
  if (!spec.list->time_key.empty()) {
    // One row whether or not the column exists: NULL (so "") when it does not.
    observed.time_key_type_name = text(session.query(
        "SELECT (SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = $1::oid"
        " AND attname = $2 AND attnum > 0 AND NOT attisdropped)",
        {oid, spec.list->time_key})[0][0]);
  }
  const SqlRows rows = session.query(
      "SELECT n.nspname, c.relname, pg_get_expr(c.relpartbound, 0), c.relkind,"
      "  coalesce(p.partstrat::text, ''), coalesce(a.attname::text, '')"
      " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
      " JOIN pg_namespace n ON n.oid = c.relnamespace"
      " LEFT JOIN pg_partitioned_table p ON p.partrelid = c.oid"
      " LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND p.partnatts = 1"
      "   AND p.partattrs[0] <> 0 AND a.attnum = p.partattrs[0]"
      " WHERE i.inhparent = $1::oid ORDER BY c.relname",
      {oid});
  for (const auto& row : rows) {
    ObservedListPartition partition;
    partition.name = {text(row[0]), text(row[1])};
    const std::string bound = text(row[2]);
    partition.is_default = bound == "DEFAULT";
    if (!partition.is_default) {
      const auto values = parse_list_bound(bound);
      if (!values)
        throw std::runtime_error("unexpected list bound of " + partition.name.display() + ": " +
                                 bound);
      partition.values = *values;
    }
    partition.partitioned = text(row[3]) == "p";
    const std::string strategy = text(row[4]);
    partition.strategy = strategy == "r"   ? "range"
                         : strategy == "l" ? "list"
                         : strategy == "h" ? "hash"
                                           : "";
    partition.sub_key_column = text(row[5]);
    observed.partitions.push_back(std::move(partition));
  }
  read_indexes(session, oid, observed.parent);

  if (const ObservedListPartition* default_partition = observed.default_partition()) {
    const std::string relation = sql::qualified(default_partition->name);
    if (text(session.query("SELECT EXISTS (SELECT 1 FROM ONLY " + relation + ")")[0][0]) == "t") {
      const std::string key = sql::identifier(parent.key_column);
      for (const auto& row : session.query("SELECT " + key + "::text, count(*) FROM ONLY " +
                                           relation + " GROUP BY 1")) {
        const int64_t count = std::stoll(text(row[1]));
        if (row[0]) {
          observed.default_rows[*row[0]] = count;
        } else {
          observed.default_null_rows = count;
        }
      }
    }
  }
  return observed;
}

SourceValues read_source_values(DatabaseSession& session, const ListSpec& list,
                                const std::string& key_type_name) {
  SourceValues source;
  std::string sql;
  std::vector<SqlValue> params;
  std::string field;
  if (list.values_from) {
    const ValuesSource& from = *list.values_from;
    const std::string column = sql::identifier(from.column);
    sql = "SELECT DISTINCT (" + column + ")::" + key_type_name + "::text FROM " +
          sql::qualified(from.table) + " WHERE " + column + " IS NOT NULL" +
          (from.where_column.empty() ? "" : " AND " + sql::identifier(from.where_column));
    field = "spec.list.valuesFrom";
  } else {
    sql =
        "SELECT DISTINCT v::" + key_type_name + "::text FROM json_array_elements_text($1::json) v";
    params.push_back(json_array(list.values));
    field = "spec.list.values";
  }
  try {
    for (const auto& row : session.query(sql, params)) source.values.push_back(text(row[0]));
  } catch (const DatabaseError& error) {
    const std::string& state = error.sqlstate();
    // Undefined table or column, a WHERE column that is not boolean, a value the key type
    // cannot hold: the spec must change. Anything else (a lock, the connection) propagates.
    if (state != "42P01" && state != "42703" && state != "42804" && state.rfind("22", 0) != 0)
      throw;
    source.reason = state == "42P01" || state == "42703" ? "ValuesSourceNotFound" : "InvalidSpec";
    source.error = field + ": " + error.what();
    source.values.clear();
    return source;
  }
  std::sort(source.values.begin(), source.values.end());
  return source;
}

std::vector<std::string> read_taken_names(DatabaseSession& session, const std::string& schema,
                                          const std::vector<std::string>& names) {
  std::vector<std::string> taken;
  if (names.empty()) return taken;
  for (const auto& row : session.query(
           "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
           " WHERE n.nspname = $1 AND c.relname IN (SELECT json_array_elements_text($2::json))",
           {schema, json_array(names)})) {
    taken.push_back(text(row[0]));
  }
  return taken;
}

}  // namespace partop
