#include "reconcilers/partition/catalog_reader.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "reconcilers/partition/sql_text.h"

namespace partop {
namespace {

constexpr auto text = text_or_empty;  // a value's text, "" for NULL

std::vector<std::string> json_strings(const SqlValue& value) {
  if (!value) return {};
  return nlohmann::json::parse(*value).get<std::vector<std::string>>();
}

// SQL that turns a bound literal taken from relpartbound (column `literal`, quotes included)
// into an int64 key value, rounding with `round_fn` (floor for lower bounds, ceil for upper).
std::string bound_to_key(KeyType type, const std::string& literal, const char* round_fn) {
  const std::string value = "trim(both '''' from " + literal + ")";
  std::string epoch;
  switch (type) {
    case KeyType::kTimestampTz:
      epoch = "extract(epoch FROM (" + value + ")::timestamptz)";
      break;
    case KeyType::kTimestamp:
      epoch = "extract(epoch FROM (" + value + ")::timestamp)";
      break;
    case KeyType::kDate:
      epoch = "extract(epoch FROM (" + value + ")::date)";
      break;
    case KeyType::kInteger:
    case KeyType::kBigint:
      epoch = "(" + value + ")::numeric";
      break;
  }
  return "CASE WHEN " + literal + " IN ('MINVALUE', 'MAXVALUE') THEN NULL ELSE " + round_fn + "(" +
         epoch + ")::bigint END";
}

// SQL for the lower bound of the grid cell holding the key column's value, as an int64.
std::string cell_of_key(KeyType type, const IntervalSpec& interval, const std::string& key) {
  if (!is_time_key(type)) {
    const std::string width = std::to_string(interval.width);
    return "(floor(" + key + "::numeric / " + width + ") * " + width + ")::bigint";
  }
  const std::string field = sql::literal(time_unit_trunc_field(*interval.unit));
  std::string truncated;
  switch (type) {
    case KeyType::kTimestampTz:
      truncated = "date_trunc(" + field + ", " + key + ", 'UTC')";
      break;
    case KeyType::kDate:
      truncated = "date_trunc(" + field + ", " + key + "::timestamp)";
      break;
    default:
      truncated = "date_trunc(" + field + ", " + key + ")";
      break;
  }
  return "floor(extract(epoch FROM " + truncated + "))::bigint";
}

bool interval_fits_key(const IntervalSpec& interval, KeyType type) {
  return interval.unit.has_value() == is_time_key(type) &&
         !(type == KeyType::kDate && interval.unit == TimeUnit::kHour);
}

void read_default_rows(DatabaseSession& session, const PolicySpec& spec, ObservedTable& table) {
  const ObservedPartition* default_partition = table.default_partition();
  if (default_partition == nullptr) return;
  const std::string relation = sql::qualified(default_partition->name);
  if (text(session.query("SELECT EXISTS (SELECT 1 FROM ONLY " + relation + ")")[0][0]) != "t") {
    return;
  }
  const std::string key = sql::identifier(table.key_column);
  const std::string cell = cell_of_key(*table.key_type, spec.interval, key);
  // An infinite key has no cell (and would not fit the bigint cell): it is counted apart.
  const std::string finite = is_time_key(*table.key_type) ? "isfinite(" + key + ")" : "true";
  const SqlRows rows =
      session.query("SELECT cell, null_key, count(*) FROM (SELECT CASE WHEN " + finite + " THEN " +
                    cell + " END AS cell, " + key + " IS NULL AS null_key FROM ONLY " + relation +
                    ") s GROUP BY 1, 2 ORDER BY 1");
  for (const auto& row : rows) {
    const int64_t count = std::stoll(text(row[2]));
    table.default_rows += count;
    if (row[0]) {
      table.default_buckets.push_back({std::stoll(*row[0]), count});
    } else if (text(row[1]) == "f") {
      table.default_infinite_rows += count;
    }
  }
}

}  // namespace

std::map<std::string, ParentIndexes> read_indexes_of(DatabaseSession& session,
                                                     const std::string& parents,
                                                     const std::string& param) {
  std::map<std::string, ParentIndexes> out;
  const SqlRows parent_rows = session.query(
      "SELECT ic.relname, ix.indisunique, am.amname, ix.indisvalid, ix.indnkeyatts,"
      "  coalesce(pg_get_expr(ix.indpred, ix.indrelid), ''),"
      "  (SELECT json_agg(coalesce(a.attname::text, '(expression)') ORDER BY k.ord)"
      "     FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
      "     LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum),"
      "  pn.nspname || '.' || pc.relname"
      " FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid"
      " JOIN pg_class pc ON pc.oid = ix.indrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace"
      " JOIN pg_am am ON am.oid = ic.relam WHERE ix.indrelid " +
          parents + " ORDER BY ic.relname",
      {param});
  for (const auto& row : parent_rows) {
    ObservedParentIndex index;
    index.name = text(row[0]);
    index.unique = text(row[1]) == "t";
    index.method = text(row[2]);
    index.valid = text(row[3]) == "t";
    const size_t key_count = std::stoul(text(row[4]));
    index.predicate = text(row[5]);
    const std::vector<std::string> all = json_strings(row[6]);
    index.columns.assign(all.begin(), all.begin() + std::min(key_count, all.size()));
    if (all.size() > key_count) index.include.assign(all.begin() + key_count, all.end());
    out[text(row[7])].indexes.push_back(std::move(index));
  }
  const SqlRows child_rows = session.query(
      "SELECT n.nspname, ic.relname, c.relname, coalesce(pic.relname::text, ''), ix.indisvalid,"
      "  pn.nspname || '.' || pc.relname"
      " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
      " JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace"
      " JOIN pg_index ix ON ix.indrelid = c.oid"
      " JOIN pg_class ic ON ic.oid = ix.indexrelid"
      " JOIN pg_namespace n ON n.oid = ic.relnamespace"
      " LEFT JOIN pg_inherits ii ON ii.inhrelid = ix.indexrelid"
      " LEFT JOIN pg_class pic ON pic.oid = ii.inhparent"
      " WHERE i.inhparent " +
          parents + " ORDER BY c.relname, ic.relname",
      {param});
  for (const auto& row : child_rows) {
    out[text(row[5])].partition_indexes.push_back(
        {{text(row[0]), text(row[1])}, text(row[2]), text(row[3]), text(row[4]) == "t"});
  }
  return out;
}

void read_indexes(DatabaseSession& session, const std::string& oid, ObservedTable& table) {
  auto found = read_indexes_of(session, "= $1::oid", oid);
  if (found.empty()) return;
  ParentIndexes& indexes = found.begin()->second;
  table.indexes = std::move(indexes.indexes);
  table.partition_indexes = std::move(indexes.partition_indexes);
}

std::map<std::string, std::vector<ObservedPartition>> read_partitions_of(DatabaseSession& session,
                                                                         const std::string& parents,
                                                                         const std::string& param,
                                                                         KeyType key_type) {
  // pg_get_expr(relpartbound, 0): bounds hold no column references, and passing the relation's
  // oid would lock every partition (waiting behind anyone holding one). Each bound is printed
  // and matched once (MATERIALIZED), not once per output column.
  const SqlRows rows = session.query(
      "WITH bounds AS MATERIALIZED ("
      "  SELECT n.nspname, c.relname, pg_get_expr(c.relpartbound, 0) AS bound,"
      "    pn.nspname || '.' || pc.relname AS parent"
      "  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
      "  JOIN pg_namespace n ON n.oid = c.relnamespace"
      "  JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace"
      "  WHERE i.inhparent " +
          parents +
          "),"
          " m AS MATERIALIZED (SELECT nspname, relname, parent, bound = 'DEFAULT' AS is_default,"
          "  regexp_match(bound, '^FOR VALUES FROM \\((.*)\\) TO \\((.*)\\)$') AS b FROM bounds)"
          " SELECT m.nspname, m.relname, m.is_default, " +
          bound_to_key(key_type, "m.b[1]", "floor") + ", " +
          bound_to_key(key_type, "m.b[2]", "ceil") +
          ", m.b[1] = 'MINVALUE', m.b[2] = 'MAXVALUE', m.parent FROM m",
      {param});
  std::map<std::string, std::vector<ObservedPartition>> out;
  for (const auto& row : rows) {
    ObservedPartition partition;
    partition.name = {text(row[0]), text(row[1])};
    partition.is_default = text(row[2]) == "t";
    if (!partition.is_default) {
      partition.lower = text(row[5]) == "t" ? kUnboundedBelow : std::stoll(text(row[3]));
      partition.upper = text(row[6]) == "t" ? kUnboundedAbove : std::stoll(text(row[4]));
    }
    out[text(row[7])].push_back(std::move(partition));
  }
  for (auto& [parent, partitions] : out) {
    std::sort(partitions.begin(), partitions.end(), [](const auto& a, const auto& b) {
      if (a.is_default != b.is_default) return b.is_default;
      return a.lower < b.lower;
    });
  }
  return out;
}

std::vector<ObservedPartition> read_partitions(DatabaseSession& session, const QualifiedName& table,
                                               KeyType key_type) {
  auto found = read_partitions_of(session, "= to_regclass($1)", sql::qualified(table), key_type);
  return found.empty() ? std::vector<ObservedPartition>{} : std::move(found.begin()->second);
}

ObservedTable read_table(DatabaseSession& session, const PolicySpec& spec) {
  ObservedTable table;
  table.name = spec.table;
  const SqlRows rows = session.query(
      "SELECT c.oid, c.relkind, coalesce(p.partstrat::text, ''), coalesce(p.partnatts, 0),"
      "  coalesce(a.attname::text, ''), coalesce(format_type(a.atttypid, NULL), ''),"
      "  (SELECT json_agg(attname ORDER BY attnum) FROM pg_attribute WHERE attrelid = c.oid"
      "     AND attnum > 0 AND NOT attisdropped AND attgenerated = ''),"
      "  pg_get_userbyid(c.relowner),"
      // Table-level, then column-level grants, the owner's own left out (a new table has them).
      "  (SELECT json_agg(json_build_array(g.grantee, g.privilege_type, g.is_grantable, g.col))"
      "   FROM (SELECT CASE WHEN x.grantee = 0 THEN '' ELSE pg_get_userbyid(x.grantee) END"
      "           AS grantee, x.privilege_type, x.is_grantable, '' AS col"
      "         FROM aclexplode(c.relacl) x WHERE x.grantee <> c.relowner"
      "         UNION ALL"
      "         SELECT CASE WHEN x.grantee = 0 THEN '' ELSE pg_get_userbyid(x.grantee) END,"
      "           x.privilege_type, x.is_grantable, at.attname::text"
      "         FROM pg_attribute at, aclexplode(at.attacl) x"
      "         WHERE at.attrelid = c.oid AND at.attnum > 0 AND NOT at.attisdropped"
      "           AND at.attacl IS NOT NULL AND x.grantee <> c.relowner) g),"
      "  c.relreplident, (SELECT ic.relname FROM pg_index i JOIN pg_class ic"
      "    ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident)"
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      " LEFT JOIN pg_partitioned_table p ON p.partrelid = c.oid"
      " LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND p.partattrs[0] <> 0"
      "   AND a.attnum = p.partattrs[0]"
      " WHERE n.nspname = $1 AND c.relname = $2",
      {spec.table.schema, spec.table.name});
  if (rows.empty()) return table;
  const SqlRow& row = rows[0];
  const std::string oid = text(row[0]);
  table.exists = true;
  table.relkind = text(row[1]).empty() ? '?' : text(row[1])[0];
  const std::string strategy = text(row[2]);
  table.strategy = strategy == "r"   ? "range"
                   : strategy == "l" ? "list"
                   : strategy == "h" ? "hash"
                                     : "";
  table.key_column_count = std::stoi(text(row[3]));
  table.key_column = text(row[4]);
  table.key_type_name = text(row[5]);
  table.key_type = key_type_from_sql(table.key_type_name);
  table.columns = json_strings(row[6]);
  table.owner = text(row[7]);
  table.replica_identity = text(row[9]).empty() ? 'd' : text(row[9])[0];
  table.replica_identity_index = text(row[10]);
  if (row[8]) {
    for (const auto& grant : nlohmann::json::parse(*row[8])) {
      table.grants.push_back({grant[0].get<std::string>(), grant[1].get<std::string>(),
                              grant[2].get<bool>(), grant[3].get<std::string>()});
    }
  }
  const QualifiedName migrations{spec.table.schema, std::string(kMigrationStateTable)};
  if (text(session.query("SELECT to_regclass($1) IS NOT NULL",
                         {sql::qualified(migrations)})[0][0]) == "t") {
    const SqlRows phase = session.query("SELECT phase FROM " + sql::qualified(migrations) +
                                            " WHERE original = $1::oid OR partitioned = $1::oid",
                                        {oid});
    if (!phase.empty()) table.migration_phase = text(phase[0][0]);
  }
  if (table.strategy != "range" || table.key_column_count != 1 || !table.key_type) return table;

  table.partitions = read_partitions(session, spec.table, *table.key_type);
  read_indexes(session, oid, table);
  // Moving a referenced row out of DEFAULT is a DELETE: its ON DELETE action would fire.
  for (const auto& fk :
       session.query("SELECT conname || ' on ' || conrelid::regclass::text FROM pg_constraint"
                     " WHERE contype = 'f' AND conparentid = 0 AND confrelid = $1::oid ORDER BY 1",
                     {oid})) {
    table.referencing_foreign_keys.push_back(text(fk[0]));
  }
  if (!interval_fits_key(spec.interval, *table.key_type)) return table;  // the planner says why
  read_default_rows(session, spec, table);
  if (!is_time_key(*table.key_type)) {
    const SqlValue max = session.query("SELECT max(" + sql::identifier(table.key_column) +
                                       ") FROM " + sql::qualified(spec.table))[0][0];
    if (max) table.max_key = std::stoll(*max);
  }
  return table;
}

ObservedServer read_server(DatabaseSession& session, const PolicySpec& spec) {
  const std::string zone =
      spec.schedule.maintenance_window ? spec.schedule.maintenance_window->time_zone : "UTC";
  const SqlRow row = session.query(
      "SELECT pg_is_in_recovery(), pg_database_size(current_database()),"
      " extract(epoch FROM (now() AT TIME ZONE $1) - (now() AT TIME ZONE 'UTC'))::bigint",
      {zone})[0];
  ObservedServer server;
  server.in_recovery = text(row[0]) == "t";
  server.database_size_bytes = std::stoll(text(row[1]));
  server.window_utc_offset_seconds = std::stoll(text(row[2]));
  return server;
}

}  // namespace partop
