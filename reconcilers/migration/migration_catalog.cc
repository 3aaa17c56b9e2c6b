#include "reconcilers/migration/migration_catalog.h"

#include <nlohmann/json.hpp>

#include "reconcilers/partition/catalog_reader.h"
#include "reconcilers/partition/sql_text.h"

namespace partop {
namespace {

constexpr auto text = text_or_empty;  // a value's text, "" for NULL

// SQL for a key value of `type` as the int64 partop's key space uses (epoch seconds for times).
std::string key_value_sql(KeyType type, const std::string& value) {
  switch (type) {
    case KeyType::kTimestampTz:
    case KeyType::kTimestamp:
      return "floor(extract(epoch FROM " + value + "))::bigint";
    case KeyType::kDate:
      return "floor(extract(epoch FROM " + value + "::timestamp))::bigint";
    case KeyType::kInteger:
    case KeyType::kBigint:
      break;
  }
  return value + "::bigint";
}

MigrationState read_state(DatabaseSession& session, const MigrationSpec& spec) {
  MigrationState state;
  const QualifiedName table{spec.table.schema, std::string(kMigrationStateTable)};
  state.table_exists = text(session.query("SELECT to_regclass($1) IS NOT NULL",
                                          {sql::qualified(table)})[0][0]) == "t";
  if (!state.table_exists) return state;
  const SqlRows rows = session.query(
      "SELECT phase, strategy, original::oid, partitioned::oid, last_key IS NOT NULL,"
      " rows_copied, swaps, coalesce(to_char(last_swap_time AT TIME ZONE 'UTC',"
      " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), index_names FROM " +
          sql::qualified(table) + " WHERE table_name = $1",
      {spec.table.name});
  if (rows.empty()) return state;
  const SqlRow& row = rows[0];
  state.exists = true;
  state.phase = text(row[0]);
  state.strategy = text(row[1]);
  state.original_oid = text(row[2]);
  state.partitioned_oid = text(row[3]);
  state.copy_started = text(row[4]) == "t";
  state.rows_copied = std::stoll(text(row[5]));
  state.swaps = std::stoi(text(row[6]));
  state.last_swap_time = text(row[7]);
  for (const auto& pair : nlohmann::json::parse(text(row[8]))) {
    state.index_names.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
  }
  return state;
}

// The current name of a relation by oid; nullopt when it no longer exists.
std::optional<QualifiedName> name_of(DatabaseSession& session, const std::string& oid) {
  const SqlRows rows = session.query(
      "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      " WHERE c.oid = $1::oid",
      {oid});
  if (rows.empty()) return std::nullopt;
  return QualifiedName{text(rows[0][0]), text(rows[0][1])};
}

void read_source_details(DatabaseSession& session, const MigrationSpec& spec,
                         ObservedSource& source) {
  const std::string& oid = source.oid;
  for (const auto& row : session.query(
           "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
           " a.attgenerated <> '', a.attidentity <> '',"
           " coalesce((SELECT quote_ident(sn.nspname) || '.' || quote_ident(s.relname)"
           "   FROM pg_depend d JOIN pg_class s ON s.oid = d.objid"
           "   JOIN pg_namespace sn ON sn.oid = s.relnamespace"
           "   WHERE d.classid = 'pg_class'::regclass AND d.refobjid = a.attrelid"
           "     AND d.refobjsubid = a.attnum AND d.deptype IN ('a', 'i') AND s.relkind = 'S'"
           "   LIMIT 1), ''),"
           " coalesce((SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
           "   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.attgenerated = ''), '')"
           " FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0"
           " AND NOT a.attisdropped ORDER BY a.attnum",
           {oid})) {
    source.columns.push_back({text(row[0]), text(row[1]), text(row[2]) == "t", text(row[3]) == "t",
                              text(row[4]) == "t", text(row[5]), text(row[6])});
  }
  for (const auto& row : session.query(
           "SELECT ic.relname, con.contype = 'p', con.oid IS NOT NULL,"
           " (SELECT json_agg(coalesce(a.attname::text, '') ORDER BY k.ord)"
           "    FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
           "    LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum"
           "    WHERE k.ord <= ix.indnkeyatts),"
           " coalesce(con.conname::text, ic.relname::text), ix.indpred IS NOT NULL"
           " FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid"
           " LEFT JOIN pg_constraint con ON con.conindid = ix.indexrelid"
           "   AND con.conrelid = ix.indrelid AND con.contype IN ('p', 'u')"
           " WHERE ix.indrelid = $1::oid AND ix.indisunique"
           " ORDER BY con.contype = 'p' DESC NULLS LAST, ic.relname",
           {oid})) {
    SourceKey key;
    key.name = text(row[4]);
    key.index_name = text(row[0]);
    key.partial = text(row[5]) == "t";
    key.primary = text(row[1]) == "t";
    key.constraint = text(row[2]) == "t";
    for (const auto& column : nlohmann::json::parse(text(row[3]))) {
      if (column.get<std::string>().empty()) {
        key.has_expression = true;
      } else {
        key.columns.push_back(column.get<std::string>());
      }
    }
    source.keys.push_back(std::move(key));
  }
  for (const auto& row :
       session.query("SELECT ic.relname, pg_get_indexdef(ix.indexrelid), ix.indisunique,"
                     " EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = ix.indrelid"
                     "   AND a.attname = $2 AND a.attnum = ANY (ix.indkey::int2[]))"
                     " FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid"
                     " WHERE ix.indrelid = $1::oid ORDER BY ic.relname",
                     {oid, spec.partition_key})) {
    const std::string definition = text(row[1]);
    const auto using_at = definition.find(" USING ");
    source.indexes.push_back({text(row[0]),
                              using_at == std::string::npos ? "" : definition.substr(using_at),
                              text(row[2]) == "t", text(row[3]) == "t"});
  }
  for (const auto& row :
       session.query("SELECT 'CONSTRAINT ' || quote_ident(conname) || ' ' ||"
                     " pg_get_constraintdef(oid) FROM pg_constraint"
                     " WHERE conrelid = $1::oid AND contype = 'f' ORDER BY conname",
                     {oid})) {
    source.outgoing_foreign_keys.push_back(text(row[0]));
  }
  for (const auto& row :
       session.query("SELECT conname || ' on ' || conrelid::regclass::text FROM pg_constraint"
                     " WHERE contype = 'f' AND confrelid = $1::oid AND conrelid <> $1::oid"
                     " ORDER BY 1",
                     {oid})) {
    source.referencing_foreign_keys.push_back(text(row[0]));
  }
  // What follows the table's oid and would stay with the retired table after a rename: views
  // and rules reading it, its own triggers (other than partop's), row security policies and
  // publications naming it.
  for (const auto& row : session.query(
           "SELECT DISTINCT 'view ' || r.ev_class::regclass::text FROM pg_depend d"
           "  JOIN pg_rewrite r ON r.oid = d.objid WHERE d.classid = 'pg_rewrite'::regclass"
           "  AND d.refobjid = $1::oid AND r.ev_class <> $1::oid"
           " UNION ALL SELECT 'rule ' || rulename FROM pg_rewrite WHERE ev_class = $1::oid"
           " UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgrelid = $1::oid"
           "  AND NOT tgisinternal AND tgname NOT LIKE 'partop\\_sync\\_%'"
           " UNION ALL SELECT 'policy ' || polname FROM pg_policy WHERE polrelid = $1::oid"
           " UNION ALL SELECT 'publication ' || p.pubname FROM pg_publication_rel pr"
           "  JOIN pg_publication p ON p.oid = pr.prpubid WHERE pr.prrelid = $1::oid"
           " ORDER BY 1",
           {oid})) {
    source.dependents.push_back(text(row[0]));
  }
  const SqlRow row = session.query(
      "SELECT coalesce(obj_description($1::oid, 'pg_class'), ''),"
      " greatest(c.reltuples, 0)::bigint FROM pg_class c WHERE c.oid = $1::oid",
      {oid})[0];
  source.comment = text(row[0]);
  source.estimated_rows = std::stoll(text(row[1]));
}

void read_key_range(DatabaseSession& session, const MigrationSpec& spec, ObservedSource& source) {
  const SourceColumn* column = source.column(spec.partition_key);
  if (column == nullptr) return;
  const std::optional<KeyType> type = key_type_from_sql(column->type);
  if (!type) return;
  const std::string key = sql::identifier(spec.partition_key);
  const std::string finite = is_time_key(*type) ? " WHERE isfinite(" + key + ")" : "";
  const SqlRow row = session.query("SELECT " + key_value_sql(*type, "min(" + key + ")") + ", " +
                                   key_value_sql(*type, "max(" + key + ")") + " FROM " +
                                   sql::qualified(source.name) + finite)[0];
  if (row[0]) source.min_key = std::stoll(*row[0]);
  if (row[1]) source.max_key = std::stoll(*row[1]);
}

SyncTrigger read_trigger(DatabaseSession& session, const std::string& table_oid, const char* name) {
  SyncTrigger trigger;
  if (table_oid.empty()) return trigger;
  const SqlRows rows = session.query(
      "SELECT tgenabled <> 'D' FROM pg_trigger WHERE tgrelid = $1::oid AND tgname = $2",
      {table_oid, name});
  trigger.exists = !rows.empty();
  trigger.enabled = trigger.exists && text(rows[0][0]) == "t";
  return trigger;
}

}  // namespace

const SourceColumn* ObservedSource::column(const std::string& wanted) const {
  for (const auto& c : columns) {
    if (c.name == wanted) return &c;
  }
  return nullptr;
}

ObservedMigration read_migration(DatabaseSession& session, const MigrationSpec& spec) {
  ObservedMigration observed;
  observed.state = read_state(session, spec);
  const MigrationState& state = observed.state;

  // The original: by oid once recorded (it may carry the retired name), else by name.
  QualifiedName original_name = spec.table;
  if (state.exists) {
    if (auto name = name_of(session, state.original_oid)) original_name = *name;
  }
  PolicySpec lookup;
  lookup.table = original_name;
  lookup.interval = spec.interval;
  const ObservedTable original = read_table(session, lookup);
  ObservedSource& source = observed.original;
  source.name = original_name;
  source.exists = original.exists && (!state.exists || name_of(session, state.original_oid));
  source.relkind = original.relkind;
  source.owner = original.owner;
  source.grants = original.grants;
  source.replica_identity = original.replica_identity;
  source.replica_identity_index = original.replica_identity_index;
  if (source.exists) {
    source.oid =
        text(session.query("SELECT $1::regclass::oid", {sql::qualified(original_name)})[0][0]);
    if (source.relkind == 'r') {
      read_source_details(session, spec, source);
      if (!state.exists || state.phase == "Preparing") read_key_range(session, spec, source);
    }
  }

  if (state.exists) {
    if (auto name = name_of(session, state.partitioned_oid)) {
      PolicySpec twin;
      twin.table = *name;
      twin.interval = spec.interval;
      observed.partitioned = read_table(session, twin);
      for (const auto& row : session.query(
               "SELECT a.attname, pg_get_serial_sequence($2, a.attname) FROM pg_attribute a"
               " WHERE a.attrelid = $1::oid AND a.attidentity <> '' AND NOT a.attisdropped",
               {state.partitioned_oid, sql::qualified(*name)})) {
        observed.twin_identity_sequences.emplace_back(text(row[0]), text(row[1]));
      }
    }
    observed.to_partitioned =
        read_trigger(session, state.original_oid, "partop_sync_to_partitioned");
    observed.to_original = read_trigger(session, state.partitioned_oid, "partop_sync_to_original");
  }
  if (source.exists && source.name == spec.table) {
    observed.named = "original";
  } else if (observed.partitioned.exists && observed.partitioned.name == spec.table) {
    observed.named = "partitioned";
  } else if (state.exists && !session
                                  .query("SELECT 1 FROM pg_class WHERE oid = to_regclass($1)"
                                         " AND relkind = 'v'",
                                         {sql::qualified(spec.table)})
                                  .empty()) {
    observed.named = "view";
  }
  if (state.exists && !state.index_names.empty()) {
    const SqlRows owner = session.query(
        "SELECT indrelid = $2::oid FROM pg_index WHERE indexrelid = to_regclass($1)",
        {sql::qualified({spec.table.schema, state.index_names[0].first}), state.partitioned_oid});
    observed.index_names_swapped = !owner.empty() && text(owner[0][0]) == "t";
  }
  return observed;
}

}  // namespace partop
