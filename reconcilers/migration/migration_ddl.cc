#include "reconcilers/migration/migration_ddl.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "reconcilers/partition/ddl.h"
#include "reconcilers/partition/layout.h"
#include "reconcilers/partition/sql_text.h"

namespace partop {
namespace {

// What LIKE copies into the twin. Indexes are left out (keys without the partition key cannot be
// copied as they are; each index is created explicitly), identity is kept (the twin's sequence
// is moved past the original's at each swap).
constexpr std::string_view kTwinLikeOptions =
    "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING IDENTITY "
    "INCLUDING STORAGE INCLUDING COMMENTS INCLUDING COMPRESSION INCLUDING STATISTICS";

std::string joined(const std::vector<std::string>& items, const std::string& prefix = "") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + prefix + sql::identifier(item);
  return out;
}

ObservedTable as_table(const ObservedSource& source) {
  ObservedTable table;
  table.name = source.name;
  table.owner = source.owner;
  table.grants = source.grants;
  table.replica_identity = source.replica_identity;
  return table;
}

}  // namespace

MigrationDdl::MigrationDdl(const MigrationSpec& spec, const ObservedMigration& observed)
    : spec_(spec), observed_(observed) {
  const auto& keys = observed.original.keys;
  auto usable = [&](const SourceKey& key) {
    if (key.has_expression || key.partial || key.columns.empty()) return false;
    return std::all_of(key.columns.begin(), key.columns.end(), [&](const std::string& name) {
      const SourceColumn* column = observed.original.column(name);
      return column != nullptr && column->not_null;
    });
  };
  const auto primary = std::find_if(
      keys.begin(), keys.end(), [&](const SourceKey& key) { return key.primary && usable(key); });
  const auto chosen =
      primary != keys.end() ? primary : std::find_if(keys.begin(), keys.end(), usable);
  if (chosen != keys.end()) row_key_ = chosen->columns;
  for (const auto& column : observed.original.columns) {
    if (!column.generated) written_columns_.push_back(column.name);
  }
}

QualifiedName MigrationDdl::twin_name() const {
  return {spec_.table.schema, derived_name(spec_.table.name, "partitioned")};
}

QualifiedName MigrationDdl::retired_name() const {
  return {spec_.table.schema, derived_name(spec_.table.name, "retired")};
}

QualifiedName MigrationDdl::function_name(const char* direction) const {
  return {spec_.table.schema, derived_name(spec_.table.name, direction)};
}

std::string MigrationDdl::state_table() const {
  return sql::qualified({spec_.table.schema, std::string(kMigrationStateTable)});
}

std::string MigrationDdl::state_where() const {
  return " WHERE table_name = " + sql::literal(spec_.table.name);
}

std::vector<std::string> MigrationDdl::prepare() const {
  const ObservedSource& source = observed_.original;
  const QualifiedName twin = twin_name();
  const std::string twin_sql = sql::qualified(twin);
  std::vector<std::string> out = {
      "CREATE TABLE IF NOT EXISTS " + state_table() +
          " (table_name text PRIMARY KEY, strategy text NOT NULL, original regclass NOT NULL,"
          " partitioned regclass NOT NULL, phase text NOT NULL, last_key text[],"
          " rows_copied bigint NOT NULL DEFAULT 0, swaps integer NOT NULL DEFAULT 0,"
          " index_names jsonb NOT NULL DEFAULT '[]',"
          " last_swap_time timestamptz, updated_at timestamptz NOT NULL DEFAULT now())",
      "CREATE TABLE " + twin_sql + " (LIKE " + sql::qualified(source.name) + " " +
          std::string(kTwinLikeOptions) + ") PARTITION BY RANGE (" +
          sql::identifier(spec_.partition_key) + ")"};
  for (auto& statement : TableDdl(as_table(source)).adopt(twin))
    out.push_back(std::move(statement));
  if (!source.comment.empty()) {
    out.push_back("COMMENT ON TABLE " + twin_sql + " IS " + sql::literal(source.comment));
  }
  // Keys and indexes. A unique key without the partition key cannot hold across partitions: it
  // becomes unique together with the key (per partition) plus a plain index on its own columns.
  nlohmann::json index_names = nlohmann::json::array();
  for (const SourceIndex& index : source.indexes) {
    // Each index's name goes to its twin at the swap (and back at a rollback): recorded here.
    index_names.push_back({index.name, derived_name(index.name, "partitioned")});
    const std::string name = sql::identifier(derived_name(index.name, "partitioned"));
    const SourceKey* key = nullptr;
    for (const auto& k : source.keys) {
      if (k.index_name == index.name) key = &k;
    }
    if (index.unique && !index.includes_key && key != nullptr) {
      std::vector<std::string> columns = key->columns;
      columns.push_back(spec_.partition_key);
      out.push_back("CREATE UNIQUE INDEX " + name + " ON " + twin_sql + " USING btree (" +
                    joined(columns) + ")");
      out.push_back("CREATE INDEX " +
                    sql::identifier(derived_name(index.name, "partitioned_lookup")) + " ON " +
                    twin_sql + " USING btree (" + joined(key->columns) + ")");
    } else if (key != nullptr && key->constraint) {
      out.push_back("ALTER TABLE " + twin_sql + " ADD CONSTRAINT " + name +
                    (key->primary ? " PRIMARY KEY (" : " UNIQUE (") + joined(key->columns) + ")");
    } else {
      out.push_back(std::string("CREATE ") + (index.unique ? "UNIQUE " : "") + "INDEX " + name +
                    " ON " + twin_sql + index.method_and_columns);
    }
  }
  // An identity index carried as it is (it names the partition key) stays the identity; one that
  // had to change shape leaves the twin on its primary key (README).
  for (const SourceIndex& index : source.indexes) {
    if (source.replica_identity == 'i' && index.name == source.replica_identity_index &&
        index.unique && index.includes_key) {
      out.push_back("ALTER TABLE " + twin_sql + " REPLICA IDENTITY USING INDEX " +
                    sql::identifier(derived_name(index.name, "partitioned")));
    }
  }
  for (const auto& foreign_key : source.outgoing_foreign_keys) {
    out.push_back("ALTER TABLE " + twin_sql + " ADD " + foreign_key);
  }
  out.push_back(
      "INSERT INTO " + state_table() +
      " (table_name, strategy, original, partitioned, phase, index_names) VALUES (" +
      sql::literal(spec_.table.name) + ", " + sql::literal(strategy_name(spec_.strategy)) + ", " +
      sql::literal(sql::qualified(source.name)) + "::regclass, " + sql::literal(twin_sql) +
      "::regclass, 'Preparing', " + sql::literal(index_names.dump()) + "::jsonb)");
  return out;
}

std::string MigrationDdl::sync_function(const QualifiedName& function, const QualifiedName& to,
                                        bool key_not_null) const {
  std::string match = row_match("OLD");
  const bool key_in_row_key =
      std::find(row_key_.begin(), row_key_.end(), spec_.partition_key) != row_key_.end();
  if (key_not_null && !key_in_row_key) {
    // Lets the DELETE prune to the row's partition instead of probing every partition.
    match += " AND " + sql::identifier(spec_.partition_key) + " = OLD." +
             sql::identifier(spec_.partition_key);
  }
  const std::string body =
      "\nBEGIN\n"
      "  IF TG_OP <> 'INSERT' THEN\n"
      "    DELETE FROM " +
      sql::qualified(to) + " WHERE " + match +
      ";\n"
      "  END IF;\n"
      "  IF TG_OP <> 'DELETE' THEN\n"
      "    INSERT INTO " +
      sql::qualified(to) + " (" + joined(written_columns_) + ") OVERRIDING SYSTEM VALUE VALUES (" +
      joined(written_columns_, "NEW.") +
      ");\n"
      "  END IF;\n"
      "  RETURN NULL;\n"
      "END\n";
  return sql::trigger_function(function, body);
}

std::vector<std::string> MigrationDdl::start_sync() const {
  const ObservedSource& source = observed_.original;
  const QualifiedName original = source.name;
  const QualifiedName twin = observed_.partitioned.name;
  const SourceColumn* key = source.column(spec_.partition_key);
  const bool key_not_null = key != nullptr && key->not_null;
  const QualifiedName forward = function_name("partop_to_partitioned");
  const QualifiedName backward = function_name("partop_to_original");
  // The functions run as the table's owner; the trigger on the twin towards the original names
  // it by the name it has while that trigger is enabled (after a swap).
  return {
      sync_function(forward, twin, key_not_null),
      "ALTER FUNCTION " + sql::qualified(forward) + "() OWNER TO " + sql::identifier(source.owner),
      sync_function(backward, retired_name(), key_not_null),
      "ALTER FUNCTION " + sql::qualified(backward) + "() OWNER TO " + sql::identifier(source.owner),
      "CREATE TRIGGER " + std::string(kSyncToOriginal) + " AFTER INSERT OR UPDATE OR DELETE ON " +
          sql::qualified(twin) + " FOR EACH ROW EXECUTE FUNCTION " + sql::qualified(backward) +
          "()",
      "ALTER TABLE " + sql::qualified(twin) + " DISABLE TRIGGER " + kSyncToOriginal,
      "CREATE TRIGGER " + std::string(kSyncToPartitioned) +
          " AFTER INSERT OR UPDATE OR DELETE ON " + sql::qualified(original) +
          " FOR EACH ROW EXECUTE FUNCTION " + sql::qualified(forward) + "()",
      "UPDATE " + state_table() + " SET phase = 'Copying', updated_at = now()" + state_where()};
}

std::string MigrationDdl::copy_batch() const {
  const ObservedSource& source = observed_.original;
  const std::string columns = joined(written_columns_);
  const std::string key_list = joined(row_key_);
  std::string resume;  // the row key of the last row copied, read back in its own types
  std::string last_key_text;
  for (size_t i = 0; i < row_key_.size(); ++i) {
    const SourceColumn* column = source.column(row_key_[i]);
    resume +=
        (i ? ", " : "") + std::string("last_key[") + std::to_string(i + 1) + "]::" + column->type;
    last_key_text += (i ? ", " : "") + sql::identifier(row_key_[i]) + "::text";
  }
  const std::string row_key =
      row_key_.size() == 1 ? sql::identifier(row_key_[0]) : "(" + key_list + ")";
  const std::string where = observed_.state.copy_started
                                ? " WHERE " + row_key + " > (SELECT " + resume + " FROM " +
                                      state_table() + state_where() + ")"
                                : "";
  const std::string batch = std::to_string(spec_.batch_size);
  std::string descending;
  for (const auto& column : row_key_) {
    descending += (descending.empty() ? "" : ", ") + sql::identifier(column) + " DESC";
  }
  return "WITH batch AS MATERIALIZED (SELECT " + columns + " FROM ONLY " +
         sql::qualified(source.name) + where + " ORDER BY " + key_list + " LIMIT " + batch +
         " FOR UPDATE), copied AS (INSERT INTO " + sql::qualified(observed_.partitioned.name) +
         " (" + columns + ") OVERRIDING SYSTEM VALUE SELECT " + columns +
         " FROM batch ON CONFLICT DO NOTHING) UPDATE " + state_table() +
         " SET last_key = coalesce((SELECT ARRAY[" + last_key_text + "] FROM batch ORDER BY " +
         descending +
         " LIMIT 1), last_key), rows_copied = rows_copied + (SELECT count(*) FROM "
         "batch), phase = CASE WHEN (SELECT count(*) FROM batch) < " +
         batch + " THEN 'InSync' ELSE phase END, updated_at = now()" + state_where();
}

std::vector<std::string> MigrationDdl::swap(MigrationTarget towards) const {
  const ObservedSource& source = observed_.original;
  const bool forward = towards == MigrationTarget::kPartitioned;
  const QualifiedName original_after = forward ? retired_name() : spec_.table;
  const QualifiedName twin_after = forward ? spec_.table : twin_name();
  // The table in use first: the application's writes take it, then (through the sync trigger)
  // the other one, so locking in the other order would deadlock with them.
  const QualifiedName& in_use = forward ? source.name : observed_.partitioned.name;
  const QualifiedName& other = forward ? observed_.partitioned.name : source.name;
  std::vector<std::string> out = {
      "LOCK TABLE " + sql::qualified(in_use) + ", " + sql::qualified(other) +
          " IN ACCESS EXCLUSIVE MODE",
      // The name is freed before it is taken.
      "ALTER TABLE " + sql::qualified(forward ? source.name : observed_.partitioned.name) +
          " RENAME TO " + sql::identifier(forward ? original_after.name : twin_after.name),
      "ALTER TABLE " + sql::qualified(forward ? observed_.partitioned.name : source.name) +
          " RENAME TO " + sql::identifier(forward ? twin_after.name : original_after.name),
      "ALTER TABLE " + sql::qualified(original_after) + (forward ? " DISABLE" : " ENABLE") +
          " TRIGGER " + kSyncToPartitioned,
      "ALTER TABLE " + sql::qualified(twin_after) + (forward ? " ENABLE" : " DISABLE") +
          " TRIGGER " + kSyncToOriginal};
  for (auto& statement : hand_over(towards, forward ? twin_after : original_after))
    out.push_back(std::move(statement));
  out.push_back(swapped(towards));
  return out;
}

std::vector<std::string> MigrationDdl::hand_over(MigrationTarget towards,
                                                 const QualifiedName& active) const {
  const bool forward = towards == MigrationTarget::kPartitioned;
  std::vector<std::string> out;
  // Index (and constraint) names follow the table's name: the twin's indexes take the original's
  // names, which move to <name>_retired; a name is freed before it is taken.
  if (observed_.index_names_swapped != forward) {
    const std::string schema = sql::identifier(spec_.table.schema) + ".";
    for (const auto& [name, twin_index] : observed_.state.index_names) {
      const std::string retired = derived_name(name, "retired");
      const auto rename = [&](const std::string& from, const std::string& to) {
        out.push_back("ALTER INDEX " + schema + sql::identifier(from) + " RENAME TO " +
                      sql::identifier(to));
      };
      if (forward) {
        rename(name, retired);
        rename(twin_index, name);
      } else {
        rename(name, twin_index);
        rename(retired, name);
      }
    }
  }
  for (auto& statement : sequences_to(towards, active)) out.push_back(std::move(statement));
  return out;
}

std::vector<std::string> MigrationDdl::sequences_to(MigrationTarget towards,
                                                    const QualifiedName& active) const {
  const bool forward = towards == MigrationTarget::kPartitioned;
  std::vector<std::string> out;
  for (const SourceColumn& column : observed_.original.columns) {
    if (column.owned_sequence.empty()) continue;
    if (!column.identity) {  // serial: one sequence, owned by the table in use
      out.push_back("ALTER SEQUENCE " + column.owned_sequence + " OWNED BY " +
                    sql::qualified(active) + "." + sql::identifier(column.name));
      continue;
    }
    for (const auto& [name, twin_sequence] : observed_.twin_identity_sequences) {
      if (name != column.name || twin_sequence.empty()) continue;
      // Each table has its identity sequence; the one taking over continues past the other.
      const std::string& to = forward ? twin_sequence : column.owned_sequence;
      const std::string& from = forward ? column.owned_sequence : twin_sequence;
      out.push_back("SELECT setval(" + sql::literal(to) + ", greatest((SELECT last_value FROM " +
                    from + "), (SELECT last_value FROM " + to + ")))");
    }
  }
  return out;
}

std::string MigrationDdl::swapped(MigrationTarget towards) const {
  return "UPDATE " + state_table() + " SET phase = " +
         sql::literal(towards == MigrationTarget::kPartitioned ? "Swapped" : "RolledBack") +
         ", swaps = swaps + 1, last_swap_time = now(), updated_at = now()" + state_where();
}

std::vector<std::string> MigrationDdl::finalize() const {
  const bool partitioned = spec_.target == MigrationTarget::kPartitioned;
  const QualifiedName& in_use =
      observed_.named == "partitioned" ? observed_.partitioned.name : observed_.original.name;
  const QualifiedName& other =
      observed_.named == "partitioned" ? observed_.original.name : observed_.partitioned.name;
  std::vector<std::string> out = {
      // In the order the application's writes take them (see swap).
      "LOCK TABLE " + sql::qualified(in_use) + ", " + sql::qualified(other) +
          " IN ACCESS EXCLUSIVE MODE",
      "DROP TRIGGER " + std::string(kSyncToPartitioned) + " ON " +
          sql::qualified(observed_.original.name),
      "DROP TRIGGER " + std::string(kSyncToOriginal) + " ON " +
          sql::qualified(observed_.partitioned.name),
      "DROP FUNCTION " + sql::qualified(function_name("partop_to_partitioned")) + "()",
      "DROP FUNCTION " + sql::qualified(function_name("partop_to_original")) + "()"};
  if (!partitioned) {
    out.push_back("ALTER TABLE " + sql::qualified(observed_.partitioned.name) + " RENAME TO " +
                  sql::identifier(retired_name().name));
  }
  out.push_back("UPDATE " + state_table() + " SET phase = 'Finalized', updated_at = now()" +
                state_where());
  return out;
}

std::string MigrationDdl::row_match(const char* record) const {
  std::string match;
  for (const auto& column : row_key_) {
    match += (match.empty() ? "" : " AND ") + sql::identifier(column) + " = " + record + "." +
             sql::identifier(column);
  }
  return match;
}

std::string MigrationDdl::routing_phase(MigrationTarget towards) const {
  return towards == MigrationTarget::kPartitioned ? "Copying" : "MovingBack";
}

std::string MigrationDdl::insert_route(MigrationTarget towards) const {
  const QualifiedName to = towards == MigrationTarget::kPartitioned ? twin_name() : retired_name();
  // Uniqueness of the row key across both tables is checked here: no index spans them.
  std::string exists;
  for (const QualifiedName& table : {retired_name(), twin_name()}) {
    exists += std::string(exists.empty() ? "" : " OR ") + "EXISTS (SELECT 1 FROM " +
              sql::qualified(table) + " WHERE " + row_match("NEW") + ")";
  }
  const std::string body =
      "\nBEGIN\n"
      "  IF " +
      exists +
      " THEN\n"
      "    RAISE unique_violation USING MESSAGE = 'duplicate key value violates the row key of '"
      " || " +
      sql::literal(spec_.table.display()) +
      ";\n"
      "  END IF;\n"
      "  INSERT INTO " +
      sql::qualified(to) + " (" + joined(written_columns_) + ") OVERRIDING SYSTEM VALUE VALUES (" +
      joined(written_columns_, "NEW.") +
      ") RETURNING * INTO NEW;\n"
      "  RETURN NEW;\n"
      "END\n";
  return sql::trigger_function(function_name("partop_route_insert"), body);
}

std::vector<std::string> MigrationDdl::start_routing(MigrationTarget towards) const {
  const ObservedSource& source = observed_.original;
  const bool from_twin = observed_.named == "partitioned";
  const QualifiedName& in_use = from_twin ? observed_.partitioned.name : source.name;
  std::vector<std::string> out = {
      "LOCK TABLE " + sql::qualified(in_use) + " IN ACCESS EXCLUSIVE MODE",
      "ALTER TABLE " + sql::qualified(in_use) + " RENAME TO " +
          sql::identifier(from_twin ? twin_name().name : retired_name().name)};
  // The view's defaults draw from the original's sequences: after a swap, they continue past
  // the twin's.
  if (from_twin) {
    for (auto& statement : sequences_to(MigrationTarget::kOriginal, retired_name()))
      out.push_back(std::move(statement));
  }
  std::string columns;
  for (const auto& column : source.columns) {
    columns += (columns.empty() ? "" : ", ") + sql::identifier(column.name);
  }
  const std::string view = sql::qualified(spec_.table);
  out.push_back("CREATE VIEW " + view + " AS SELECT " + columns + " FROM " +
                sql::qualified(retired_name()) + " UNION ALL SELECT " + columns + " FROM " +
                sql::qualified(twin_name()));
  ObservedTable as_table;
  as_table.name = source.name;
  as_table.owner = source.owner;
  as_table.grants = source.grants;
  for (auto& statement : TableDdl(as_table).adopt(spec_.table)) out.push_back(std::move(statement));
  for (const auto& column : source.columns) {
    const std::string value = column.identity
                                  ? "nextval(" + sql::literal(column.owned_sequence) + "::regclass)"
                                  : column.default_expr;
    if (value.empty()) continue;
    out.push_back("ALTER VIEW " + view + " ALTER COLUMN " + sql::identifier(column.name) +
                  " SET DEFAULT " + value);
  }
  const std::string set_row =
      "(" + joined(written_columns_) + ") = ROW(" + joined(written_columns_, "NEW.") + ")";
  const auto function = [&](const char* name, const std::string& body) {
    return sql::trigger_function(function_name(name), body);
  };
  const std::string retired = sql::qualified(retired_name());
  const std::string twin = sql::qualified(twin_name());
  out.push_back(insert_route(towards));
  // The row is in one table or the other, but a batch may move it between the two probes (a
  // probe that waits for the batch's row lock then finds it gone): a second round finds it
  // where it went. Only a row nobody holds is missed by both rounds. No RETURNING INTO: a miss
  // would set NEW to nulls.
  const auto probe = [&](const std::string& statement, const char* record) {
    return "\nBEGIN\n"
           "  FOR round IN 1..2 LOOP\n"
           "    " +
           statement + retired + " " + (statement[0] == 'U' ? "SET " + set_row + " " : "") +
           "WHERE " + row_match("OLD") +
           ";\n"
           "    IF FOUND THEN RETURN " +
           record +
           "; END IF;\n"
           "    " +
           statement + twin + " " + (statement[0] == 'U' ? "SET " + set_row + " " : "") + "WHERE " +
           row_match("OLD") +
           ";\n"
           "    IF FOUND THEN RETURN " +
           record +
           "; END IF;\n"
           "  END LOOP;\n"
           "  RETURN NULL;\n"
           "END\n";
  };
  out.push_back(function("partop_route_update", probe("UPDATE ", "NEW")));
  out.push_back(function("partop_route_delete", probe("DELETE FROM ", "OLD")));
  for (const char* operation : {"insert", "update", "delete"}) {
    const std::string name = std::string("partop_route_") + operation;
    out.push_back("ALTER FUNCTION " + sql::qualified(function_name(name.c_str())) + "() OWNER TO " +
                  sql::identifier(source.owner));
    std::string upper = operation;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.push_back("CREATE TRIGGER " + name + " INSTEAD OF " + upper + " ON " + view +
                  " FOR EACH ROW EXECUTE FUNCTION " + sql::qualified(function_name(name.c_str())) +
                  "()");
  }
  out.push_back("UPDATE " + state_table() + " SET phase = " + sql::literal(routing_phase(towards)) +
                ", updated_at = now()" + state_where());
  return out;
}

std::vector<std::string> MigrationDdl::reroute(MigrationTarget towards) const {
  return {insert_route(towards), "UPDATE " + state_table() +
                                     " SET phase = " + sql::literal(routing_phase(towards)) +
                                     ", updated_at = now()" + state_where()};
}

std::string MigrationDdl::move_batch(MigrationTarget towards) const {
  const bool forward = towards == MigrationTarget::kPartitioned;
  const std::string from = sql::qualified(forward ? retired_name() : twin_name());
  const std::string to = sql::qualified(forward ? twin_name() : retired_name());
  std::string all_columns;
  for (const auto& column : observed_.original.columns) {
    all_columns += (all_columns.empty() ? "" : ", ") + sql::identifier(column.name);
  }
  const std::string key_list = joined(row_key_);
  const std::string row_key = row_key_.size() == 1 ? key_list : "(" + key_list + ")";
  const std::string batch = std::to_string(spec_.batch_size);
  const std::string written = joined(written_columns_);
  return "WITH moved AS (DELETE FROM " + from + " WHERE " + row_key + " IN (SELECT " + key_list +
         " FROM " + from + " ORDER BY " + key_list + " LIMIT " + batch + " FOR UPDATE) RETURNING " +
         all_columns + "), copied AS (INSERT INTO " + to + " (" + written +
         ") OVERRIDING SYSTEM VALUE SELECT " + written + " FROM moved) UPDATE " + state_table() +
         " SET rows_copied = rows_copied + (SELECT count(*) FROM moved), phase = CASE WHEN "
         "(SELECT count(*) FROM moved) < " +
         batch + " THEN " + sql::literal(forward ? "InSync" : "MovedBack") +
         " ELSE phase END, updated_at = now()" + state_where();
}

std::vector<std::string> MigrationDdl::end_routing(MigrationTarget towards) const {
  const bool forward = towards == MigrationTarget::kPartitioned;
  const QualifiedName& holder = forward ? observed_.partitioned.name : observed_.original.name;
  // Locking the view locks the tables under it too: no statement runs through it meanwhile.
  std::vector<std::string> out = {
      "LOCK TABLE " + sql::qualified(spec_.table) + " IN ACCESS EXCLUSIVE MODE",
      "DROP VIEW " + sql::qualified(spec_.table)};
  for (const char* name : {"partop_route_insert", "partop_route_update", "partop_route_delete"}) {
    out.push_back("DROP FUNCTION " + sql::qualified(function_name(name)) + "()");
  }
  out.push_back("ALTER TABLE " + sql::qualified(holder) + " RENAME TO " +
                sql::identifier(spec_.table.name));
  for (auto& statement : hand_over(towards, spec_.table)) out.push_back(std::move(statement));
  out.push_back(swapped(towards));
  return out;
}

std::vector<std::string> MigrationDdl::finalize_move() const {
  std::vector<std::string> out;
  if (spec_.target == MigrationTarget::kOriginal) {
    out.push_back("ALTER TABLE " + sql::qualified(observed_.partitioned.name) + " RENAME TO " +
                  sql::identifier(retired_name().name));
  }
  out.push_back("UPDATE " + state_table() + " SET phase = 'Finalized', updated_at = now()" +
                state_where());
  return out;
}

}  // namespace partop
