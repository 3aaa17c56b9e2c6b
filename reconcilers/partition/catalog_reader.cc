#include "reconcilers/partition/catalog_reader.h"

#include <algorithm>
#include <tuple>

#include <nlohmann/json.hpp>

#include "reconcilers/partition/bound_literal.h"
#include "reconcilers/partition/guards.h"
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

// Rows of the DEFAULT partition per grid cell of the policy's interval: none when it is empty.
// An infinite key has no cell (and would not fit the bigint cell): it is counted apart.
std::string default_cells_sql(const PolicySpec& spec, const ObservedTable& table,
                              const ObservedPartition& default_partition) {
  const std::string key = sql::identifier(table.key_column);
  const std::string cell = cell_of_key(*table.key_type, spec.interval, key);
  const std::string finite = is_time_key(*table.key_type) ? "isfinite(" + key + ")" : "true";
  return "SELECT cell, null_key, count(*) FROM (SELECT CASE WHEN " + finite + " THEN " + cell +
         " END AS cell, " + key + " IS NULL AS null_key FROM ONLY " +
         sql::qualified(default_partition.name) + ") s GROUP BY 1, 2 ORDER BY 1";
}

void read_default_cells(const SqlRows& rows, ObservedTable& table) {
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

// The parent indexes of the tables whose oid satisfies `parents` (an SQL condition), each row
// ending with the parent's "schema.name".
std::string parent_indexes_sql(const std::string& parents) {
  return "SELECT ic.relname, ix.indisunique, am.amname, ix.indisvalid, ix.indnkeyatts,"
         "  coalesce(pg_get_expr(ix.indpred, ix.indrelid), ''),"
         "  (SELECT json_agg(coalesce(a.attname::text, '(expression)') ORDER BY k.ord)"
         "     FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
         "     LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum),"
         "  pn.nspname || '.' || pc.relname"
         " FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid"
         " JOIN pg_class pc ON pc.oid = ix.indrelid"
         " JOIN pg_namespace pn ON pn.oid = pc.relnamespace"
         " JOIN pg_am am ON am.oid = ic.relam WHERE ix.indrelid " +
         parents + " ORDER BY ic.relname";
}

// The tables whose oid satisfies `parents`, each with its "schema.name", resolved once.
std::string parents_cte(const std::string& parents) {
  return "WITH parents AS MATERIALIZED (SELECT c.oid, n.nspname || '.' || c.relname AS name"
         " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid " +
         parents + ")";
}

// A partition's pg_class row, looked up by oid (OFFSET 0 keeps the lookup per partition: a join
// the planner may turn into a scan of the whole pg_class, whose size is the database's, not the
// table's).
constexpr const char* kPartitionRow =
    " FROM parents p JOIN pg_inherits i ON i.inhparent = p.oid"
    " CROSS JOIN LATERAL (SELECT c.relname, c.relnamespace, c.relpartbound FROM pg_class c"
    "   WHERE c.oid = i.inhrelid OFFSET 0) c";

// The indexes of those tables' partitions that are invalid or not attached to a valid parent
// index, with the parent index each is attached to; unordered. The others are not read:
// PostgreSQL marks a partitioned index valid only once every partition has a valid index
// attached to it, so there is nothing to plan for them, and at 1,000 partitions looking up their
// names was half of a no-op's server time. Names are looked up (by oid, one lateral lookup each,
// whatever the database's size) only for the rows kept.
std::string partition_indexes_sql(const std::string& parents) {
  return parents_cte(parents) +
         ", parent_indexes AS MATERIALIZED (SELECT ix.indexrelid, ix.indisvalid"
         "   FROM parents p JOIN pg_index ix ON ix.indrelid = p.oid),"
         " kept AS MATERIALIZED (SELECT p.name AS parent_name, i.inhrelid, x.indexrelid,"
         "   x.indisvalid, x.attached_to"
         "   FROM parents p JOIN pg_inherits i ON i.inhparent = p.oid"
         "   CROSS JOIN LATERAL (SELECT ix.indexrelid, ix.indisvalid, (SELECT ii.inhparent"
         "     FROM pg_inherits ii WHERE ii.inhrelid = ix.indexrelid) AS attached_to"
         "     FROM pg_index ix WHERE ix.indrelid = i.inhrelid OFFSET 0) x"
         "   LEFT JOIN parent_indexes pi ON pi.indexrelid = x.attached_to"
         "   WHERE NOT (x.indisvalid AND coalesce(pi.indisvalid, false)))"
         " SELECT n.nspname, ic.relname, c.relname, coalesce(pic.relname::text, ''), k.indisvalid,"
         "   k.parent_name FROM kept k"
         " CROSS JOIN LATERAL (SELECT relname FROM pg_class WHERE oid = k.inhrelid OFFSET 0) c"
         " CROSS JOIN LATERAL (SELECT relname, relnamespace FROM pg_class"
         "   WHERE oid = k.indexrelid OFFSET 0) ic"
         " JOIN pg_namespace n ON n.oid = ic.relnamespace"
         " LEFT JOIN LATERAL (SELECT relname FROM pg_class WHERE oid = k.attached_to OFFSET 0) pic"
         "   ON true";
}

std::map<std::string, ParentIndexes> indexes_from(const SqlRows& parent_rows,
                                                  const SqlRows& child_rows) {
  std::map<std::string, ParentIndexes> out;
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
  for (const auto& row : child_rows) {
    out[text(row[5])].partition_indexes.push_back(
        {{text(row[0]), text(row[1])}, text(row[2]), text(row[3]), text(row[4]) == "t"});
  }
  for (auto& [parent, indexes] : out) {  // by partition, then index name
    std::sort(indexes.partition_indexes.begin(), indexes.partition_indexes.end(),
              [](const ObservedPartitionIndex& a, const ObservedPartitionIndex& b) {
                return std::tie(a.partition, a.name.name) < std::tie(b.partition, b.name.name);
              });
  }
  return out;
}

// The partitions of those tables with their bounds: `lower_key` and `upper_key` are SQL over the
// bound literals s.lo / s.hi, either the literals themselves (partop reads them) or the key
// values the server computes from them.
std::string partitions_sql(const std::string& parents, const std::string& lower_key,
                           const std::string& upper_key) {
  // pg_get_expr(relpartbound, 0): bounds hold no column references, and passing the relation's
  // oid would lock every partition (waiting behind anyone holding one). Each bound is printed
  // and split once (OFFSET 0 keeps the subqueries from being inlined into every use).
  // Single-column range bounds of integers and times hold no ") TO (": split there (a regular
  // expression took three times as long over 1,000 partitions).
  return parents_cte(parents) + " SELECT n.nspname, c.relname, s.bound = 'DEFAULT', " + lower_key +
         ", " + upper_key + ", s.lo = 'MINVALUE', s.hi = 'MAXVALUE', p.name" + kPartitionRow +
         " JOIN pg_namespace n ON n.oid = c.relnamespace"
         " CROSS JOIN LATERAL (SELECT b.bound,"
         "   CASE WHEN b.bound LIKE 'FOR VALUES FROM (%) TO (%)'"
         "     THEN substr(split_part(b.bound, ') TO (', 1), 18) END AS lo,"
         "   CASE WHEN b.bound LIKE 'FOR VALUES FROM (%) TO (%)'"
         "     THEN left(split_part(b.bound, ') TO (', 2), -1) END AS hi"
         "   FROM (SELECT pg_get_expr(c.relpartbound, 0) AS bound OFFSET 0) b OFFSET 0) s";
}

// Partitions by parent, DEFAULT last, the others by lower bound. Rows whose bounds are not a
// range's (a list or hash partition) are left out. The bounds are keys already, or literals
// (key_of_bound_literal); nullopt when a literal is not one partop reads itself.
std::optional<std::map<std::string, std::vector<ObservedPartition>>> partitions_from(
    const SqlRows& rows) {
  std::map<std::string, std::vector<ObservedPartition>> out;
  for (const auto& row : rows) {
    ObservedPartition partition;
    partition.name = {text(row[0]), text(row[1])};
    partition.is_default = text(row[2]) == "t";
    if (!partition.is_default) {
      const bool unbounded_below = text(row[5]) == "t";
      const bool unbounded_above = text(row[6]) == "t";
      if ((!row[3] && !unbounded_below) || (!row[4] && !unbounded_above)) continue;
      const auto lower =
          unbounded_below ? kUnboundedBelow : key_of_bound_literal(*row[3], BoundRounding::kDown);
      const auto upper =
          unbounded_above ? kUnboundedAbove : key_of_bound_literal(*row[4], BoundRounding::kUp);
      if (!lower || !upper) return std::nullopt;
      partition.lower = *lower;
      partition.upper = *upper;
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

// partitions_from() of rows whose bounds the server turned into keys, which always read.
std::map<std::string, std::vector<ObservedPartition>> partitions_from_keys(const SqlRows& rows) {
  auto out = partitions_from(rows);
  if (!out) throw DatabaseError("the server returned a partition bound that is not a key", "");
  return std::move(*out);
}

// A bound literal as an int64 key whatever the key's type: integers print bare (quoted when
// negative), times as quoted text that the session's UTC time zone reads as the key's instant
// (a date or a timestamp without time zone names the UTC instant its key value is).
std::string any_bound_to_key(const std::string& literal, const char* round_fn) {
  const std::string value = "trim(both '''' from " + literal + ")";
  return "CASE WHEN " + literal + " IN ('MINVALUE', 'MAXVALUE') THEN NULL WHEN " + value +
         " ~ '^-?[0-9]+$' THEN " + round_fn + "((" + value + ")::numeric)::bigint ELSE " +
         round_fn + "(extract(epoch FROM (" + value + ")::timestamptz))::bigint END";
}

// The table's own row: kind, partitioning, key column and type, columns, owner, grants and
// replica identity; `where` selects it from pg_class c JOIN pg_namespace n.
std::string table_row_sql(const std::string& where) {
  return "SELECT c.oid, c.relkind, coalesce(p.partstrat::text, ''), coalesce(p.partnatts, 0),"
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
         " WHERE " +
         where;
}

// Fills `table` from its row; false when there is none (the table does not exist).
bool table_from(const SqlRows& rows, ObservedTable& table) {
  if (rows.empty()) return false;
  const SqlRow& row = rows[0];
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
  return true;
}

SqlStatement server_statement(const PolicySpec& spec) {
  const std::string zone =
      spec.schedule.maintenance_window ? spec.schedule.maintenance_window->time_zone : "UTC";
  // The database's size is a walk of its directory: read for the storage guard only.
  return {"SELECT pg_is_in_recovery(), " +
              std::string(spec.guards.storage ? "pg_database_size(current_database())" : "0") +
              ", extract(epoch FROM (now() AT TIME ZONE $1) - (now() AT TIME ZONE 'UTC'))::bigint",
          {zone}};
}

ObservedServer server_from(const SqlRows& rows) {
  const SqlRow& row = rows.at(0);
  ObservedServer server;
  server.in_recovery = text(row[0]) == "t";
  server.database_size_bytes = std::stoll(text(row[1]));
  server.window_utc_offset_seconds = std::stoll(text(row[2]));
  return server;
}

// Reads spec.table (and, `with_server`, the server and its standbys' lag) in one round trip of
// independent statements, then one more for what depends on them (the DEFAULT partition's rows,
// the integer key's maximum, a migration's phase) when the table has any of those.
CatalogObservation observe(DatabaseSession& session, const PolicySpec& spec, bool with_server) {
  CatalogObservation out;
  ObservedTable& table = out.table;
  table.name = spec.table;
  // Values are parameters, so that each statement's text is the same for every table.
  const std::string oid = "= to_regclass($1)";
  const SqlValue table_name = sql::qualified(spec.table);
  const QualifiedName migrations{spec.table.schema, std::string(kMigrationStateTable)};
  std::vector<SqlStatement> first;
  if (with_server) first = {server_statement(spec), {replication_lag_rows_sql()}};
  const size_t at = first.size();
  first.push_back(
      {table_row_sql("n.nspname = $1 AND c.relname = $2"), {spec.table.schema, spec.table.name}});
  first.push_back({"SELECT to_regclass($1) IS NOT NULL", {sql::qualified(migrations)}});
  first.push_back({partitions_sql(oid, "s.lo", "s.hi"), {table_name}});
  first.push_back({parent_indexes_sql(oid), {table_name}});
  first.push_back({partition_indexes_sql(oid), {table_name}});
  // Moving a referenced row out of DEFAULT is a DELETE: its ON DELETE action would fire.
  first.push_back(
      {"SELECT conname || ' on ' || conrelid::regclass::text FROM pg_constraint"
       " WHERE contype = 'f' AND conparentid = 0 AND confrelid " +
           oid + " ORDER BY 1",
       {table_name}});
  const std::vector<SqlRows> results = session.query_batch(first);
  if (with_server) {
    out.server = server_from(results[0]);
    if (!out.server.in_recovery) out.worst_lag = worst_replication_lag_in(results[1]);
  }
  if (!table_from(results[at], table)) return out;

  std::vector<SqlStatement> second;
  const bool migration_table = text(results[at + 1].at(0)[0]) == "t";
  if (migration_table) {
    second.push_back({"SELECT phase FROM " + sql::qualified(migrations) + " WHERE original " + oid +
                          " OR partitioned " + oid,
                      {table_name}});
  }
  const bool range = table.strategy == "range" && table.key_column_count == 1 && table.key_type;
  if (range) {
    // Bounds as literals, read here; rarely one that is not (a BC date, infinity), and then all
    // are asked of the server as keys, in a round trip of its own.
    auto partitions = partitions_from(results[at + 2]);
    if (!partitions) {
      partitions = partitions_from_keys(session.query(
          partitions_sql(oid, any_bound_to_key("s.lo", "floor"), any_bound_to_key("s.hi", "ceil")),
          {table_name}));
    }
    if (!partitions->empty()) table.partitions = std::move(partitions->begin()->second);
    auto indexes = indexes_from(results[at + 3], results[at + 4]);
    if (!indexes.empty()) {
      table.indexes = std::move(indexes.begin()->second.indexes);
      table.partition_indexes = std::move(indexes.begin()->second.partition_indexes);
    }
    for (const auto& fk : results[at + 5]) table.referencing_foreign_keys.push_back(text(fk[0]));
  }
  // When the interval does not fit the key, the planner says so: nothing more to read.
  const bool cells = range && interval_fits_key(spec.interval, *table.key_type);
  const ObservedPartition* default_partition = cells ? table.default_partition() : nullptr;
  if (default_partition != nullptr)
    second.push_back({default_cells_sql(spec, table, *default_partition)});
  const bool max_key = cells && !is_time_key(*table.key_type);
  if (max_key) {
    second.push_back({"SELECT max(" + sql::identifier(table.key_column) + ") FROM " +
                      sql::qualified(spec.table)});
  }
  if (second.empty()) return out;
  const std::vector<SqlRows> more = session.query_batch(second);
  size_t next = 0;
  if (migration_table) {
    const SqlRows& phase = more[next++];
    if (!phase.empty()) table.migration_phase = text(phase[0][0]);
  }
  if (default_partition != nullptr) read_default_cells(more[next++], table);
  if (max_key && more[next].at(0)[0]) table.max_key = std::stoll(*more[next][0][0]);
  return out;
}

}  // namespace

std::map<std::string, ParentIndexes> read_indexes_of(DatabaseSession& session,
                                                     const std::string& parents,
                                                     const std::string& param) {
  return indexes_from(session.query(parent_indexes_sql(parents), {param}),
                      session.query(partition_indexes_sql(parents), {param}));
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
  return partitions_from_keys(
      session.query(partitions_sql(parents, bound_to_key(key_type, "s.lo", "floor"),
                                   bound_to_key(key_type, "s.hi", "ceil")),
                    {param}));
}

std::vector<ObservedPartition> read_partitions(DatabaseSession& session, const QualifiedName& table,
                                               KeyType key_type) {
  auto found = read_partitions_of(session, "= to_regclass($1)", sql::qualified(table), key_type);
  return found.empty() ? std::vector<ObservedPartition>{} : std::move(found.begin()->second);
}

ObservedTable read_table(DatabaseSession& session, const PolicySpec& spec) {
  return observe(session, spec, false).table;
}

CatalogObservation observe_catalog(DatabaseSession& session, const PolicySpec& spec) {
  return observe(session, spec, true);
}

ObservedServer read_server(DatabaseSession& session, const PolicySpec& spec) {
  const SqlStatement statement = server_statement(spec);
  return server_from(session.query(statement.sql, statement.params));
}

}  // namespace partop
