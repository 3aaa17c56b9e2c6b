#include "reconcilers/backfill/backfill_ddl.h"

#include "reconcilers/partition/ddl.h"
#include "reconcilers/partition/layout.h"
#include "reconcilers/partition/sql_text.h"

namespace partop {
namespace {

// What the shadow takes from the parent. Indexes are left out: the live partition's are built
// after the fill (faster than maintaining them row by row) under names the swap can exchange.
constexpr std::string_view kShadowLikeOptions =
    "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS "
    "INCLUDING STATISTICS INCLUDING GENERATED";
constexpr std::string_view kWriteTrigger = "partop_backfill_writes";
constexpr std::string_view kTruncateTrigger = "partop_backfill_truncates";
constexpr std::string_view kWriteFunction = "partop_backfill_written";

}  // namespace

BackfillDdl::BackfillDdl(const Backfill& backfill, const ObservedBackfill& observed)
    : backfill_(backfill), observed_(observed), live_(*observed.current) {}

QualifiedName BackfillDdl::shadow() const {
  const QualifiedName& live = live_.partition.name;
  return {live.schema, shadow_name(live.name)};
}

QualifiedName BackfillDdl::replaced() const {
  const QualifiedName& live = live_.partition.name;
  return {live.schema, derived_name(live.name, "replaced")};
}

std::string BackfillDdl::control_table() const {
  return sql::qualified({backfill_.spec.table.schema, std::string(kBackfillStateTable)});
}

std::string BackfillDdl::row_where() const {
  return " WHERE table_name = " + sql::literal(backfill_.spec.table.name) +
         " AND backfill = " + sql::literal(backfill_.key()) +
         " AND lower_bound = " + std::to_string(live_.partition.lower);
}

std::string BackfillDdl::trigger_arguments() const {
  return sql::literal(backfill_.spec.table.name) + ", " + sql::literal(backfill_.key()) + ", " +
         sql::literal(std::to_string(live_.partition.lower));
}

std::vector<std::string> BackfillDdl::start() const {
  const ObservedPartition& partition = live_.partition;
  const std::string live = sql::qualified(partition.name);
  const QualifiedName shadow_table = shadow();
  const std::string shadow_sql = sql::qualified(shadow_table);
  const QualifiedName function{backfill_.spec.table.schema, std::string(kWriteFunction)};
  std::vector<std::string> out = {
      "CREATE TABLE IF NOT EXISTS " + control_table() +
          " (table_name text NOT NULL, backfill text NOT NULL, lower_bound bigint NOT NULL,"
          " upper_bound bigint NOT NULL, partition_name text NOT NULL, state text NOT NULL,"
          " filled_upto bigint NOT NULL, rows_written bigint NOT NULL DEFAULT 0,"
          " live_writes bigint NOT NULL DEFAULT 0, conflicts integer NOT NULL DEFAULT 0,"
          " started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz,"
          " PRIMARY KEY (table_name, backfill, lower_bound))",
      // Counts every row the application writes into the live partition from now on (row
      // triggers: a statement through the parent fires no statement trigger of a partition).
      sql::trigger_function(function,
                            "BEGIN\n"
                            "  UPDATE " +
                                control_table() +
                                " SET live_writes = live_writes + 1\n"
                                "   WHERE table_name = TG_ARGV[0] AND backfill = TG_ARGV[1]\n"
                                "   AND lower_bound = TG_ARGV[2]::bigint;\n"
                                "  RETURN NULL;\n"
                                "END\n"),
      "CREATE OR REPLACE TRIGGER " + sql::identifier(kWriteTrigger) +
          " AFTER INSERT OR UPDATE OR DELETE ON " + live + " FOR EACH ROW EXECUTE FUNCTION " +
          sql::qualified(function) + "(" + trigger_arguments() + ")",
      "CREATE OR REPLACE TRIGGER " + sql::identifier(kTruncateTrigger) + " AFTER TRUNCATE ON " +
          live + " FOR EACH STATEMENT EXECUTE FUNCTION " + sql::qualified(function) + "(" +
          trigger_arguments() + ")",
      "DROP TABLE IF EXISTS " + shadow_sql,
      "CREATE TABLE " + shadow_sql + " (LIKE " + sql::qualified(observed_.table.name) + " " +
          std::string(kShadowLikeOptions) + ")"};
  // Owned and granted as the live partition is, not as the parent.
  for (auto& statement : TableDdl(live_.table).adopt(shadow_table))
    out.push_back(std::move(statement));
  const TableDdl parent(observed_.table);
  out.push_back("ALTER TABLE " + shadow_sql + " ADD CONSTRAINT " +
                sql::identifier(derived_name(shadow_table.name, "bound")) + " " +
                parent.bound_check(partition.lower, partition.upper));
  out.push_back("INSERT INTO " + control_table() +
                " AS r (table_name, backfill, lower_bound, upper_bound, partition_name, state,"
                " filled_upto) VALUES (" +
                sql::literal(backfill_.spec.table.name) + ", " + sql::literal(backfill_.key()) +
                ", " + std::to_string(partition.lower) + ", " + std::to_string(partition.upper) +
                ", " + sql::literal(partition.name.name) + ", 'building', " +
                std::to_string(partition.lower) +
                ") ON CONFLICT (table_name, backfill, lower_bound) DO UPDATE SET"
                " state = 'building', filled_upto = EXCLUDED.filled_upto, rows_written = 0,"
                " live_writes = 0, started_at = now(), finished_at = NULL");
  return out;
}

std::vector<std::string> BackfillDdl::fill_slice(KeyValue from, KeyValue to) const {
  const TableDdl parent(observed_.table);
  const std::string key = sql::identifier(observed_.table.key_column);
  const std::string columns = parent.columns_sql(observed_.table.columns);
  // OVERRIDING SYSTEM VALUE: identity columns keep the source's values.
  return {"WITH written AS (INSERT INTO " + sql::qualified(shadow()) + " (" + columns +
          ") OVERRIDING SYSTEM VALUE SELECT " + columns + " FROM " +
          sql::qualified(backfill_.spec.source) + " WHERE " + key + " >= " + parent.literal(from) +
          " AND " + key + " < " + parent.literal(to) + " RETURNING 1) UPDATE " + control_table() +
          " SET filled_upto = " + std::to_string(to) +
          ", rows_written = rows_written + (SELECT count(*) FROM written)" + row_where()};
}

std::vector<std::string> BackfillDdl::build_index(const LiveIndex& index) const {
  const std::string name = sql::identifier(shadow_index_name(index.name));
  const std::string shadow_sql = sql::qualified(shadow());
  if (!index.constraint_definition.empty()) {
    return {"ALTER TABLE " + shadow_sql + " ADD CONSTRAINT " + name + " " +
            index.constraint_definition};
  }
  return {std::string("CREATE ") + (index.unique ? "UNIQUE " : "") + "INDEX " + name + " ON " +
          shadow_sql + index.method_and_columns};
}

std::vector<std::string> BackfillDdl::add_foreign_key(const std::string& name,
                                                      const std::string& definition) const {
  return {"ALTER TABLE " + sql::qualified(shadow()) + " ADD CONSTRAINT " + sql::identifier(name) +
          " " + definition + " NOT VALID"};
}

std::vector<std::string> BackfillDdl::finish() const {
  const std::string shadow_sql = sql::qualified(shadow());
  std::vector<std::string> out;
  for (const auto& foreign_key : live_.foreign_keys) {
    out.push_back("ALTER TABLE " + shadow_sql + " VALIDATE CONSTRAINT " +
                  sql::identifier(foreign_key.first));
  }
  out.push_back("ANALYZE " + shadow_sql);
  out.push_back("UPDATE " + control_table() + " SET state = 'ready'" + row_where());
  return out;
}

std::vector<std::string> BackfillDdl::swap() const {
  const ObservedPartition& partition = live_.partition;
  const std::string live = sql::qualified(partition.name);
  const std::string parent_sql = sql::qualified(observed_.table.name);
  const QualifiedName shadow_table = shadow();
  const std::string schema = partition.name.schema;
  const TableDdl parent(observed_.table);
  // The parent first, then the partition: the order every query through the parent (and DETACH
  // itself) takes them in, so that no reader can hold one while waiting for the other.
  std::vector<std::string> out = {
      "LOCK TABLE ONLY " + parent_sql + " IN ACCESS EXCLUSIVE MODE",
      "LOCK TABLE ONLY " + live + " IN ACCESS EXCLUSIVE MODE",
      // Every write the application committed into the live partition since the start is
      // counted; none can commit now. Any at all: this rebuild is stale.
      "DO " +
          sql::dollar_quoted("BEGIN\n  IF EXISTS (SELECT FROM " + control_table() + row_where() +
                             " AND live_writes > 0) THEN\n"
                             "    RAISE EXCEPTION USING ERRCODE = '" +
                             std::string(kPartopConflictSqlstate) + "', MESSAGE = " +
                             sql::literal("partition " + partition.name.display() +
                                          " received writes during its rebuild") +
                             ";\n  END IF;\nEND\n"),
      "ALTER TABLE " + parent_sql + " DETACH PARTITION " + live};
  if (backfill_.spec.replaced == ReplacedPartition::kDrop) {
    out.push_back("DROP TABLE " + live);
  } else {
    out.push_back("DROP TRIGGER " + sql::identifier(kWriteTrigger) + " ON " + live);
    out.push_back("DROP TRIGGER " + sql::identifier(kTruncateTrigger) + " ON " + live);
    for (const auto& index : live_.indexes) {
      out.push_back("ALTER INDEX " + sql::qualified({schema, index.name}) + " RENAME TO " +
                    sql::identifier(derived_name(index.name, "replaced")));
    }
    out.push_back("ALTER TABLE " + live + " RENAME TO " + sql::identifier(replaced().name));
  }
  out.push_back("ALTER TABLE " + sql::qualified(shadow_table) + " RENAME TO " +
                sql::identifier(partition.name.name));
  for (const auto& index : live_.indexes) {
    out.push_back("ALTER INDEX " + sql::qualified({schema, shadow_index_name(index.name)}) +
                  " RENAME TO " + sql::identifier(index.name));
  }
  out.push_back("ALTER TABLE " + parent_sql + " ATTACH PARTITION " + live + " FOR VALUES FROM (" +
                parent.literal(partition.lower) + ") TO (" + parent.literal(partition.upper) + ")");
  out.push_back("ALTER TABLE " + live + " DROP CONSTRAINT " +
                sql::identifier(derived_name(shadow_table.name, "bound")));
  out.push_back("UPDATE " + control_table() + " SET state = 'swapped', finished_at = now()" +
                row_where());
  out.push_back(parent.notify());
  return out;
}

std::vector<std::string> BackfillDdl::set_aside() const {
  const std::string live = sql::qualified(live_.partition.name);
  return {"DROP TRIGGER IF EXISTS " + sql::identifier(kWriteTrigger) + " ON " + live,
          "DROP TRIGGER IF EXISTS " + sql::identifier(kTruncateTrigger) + " ON " + live,
          "DROP TABLE IF EXISTS " + sql::qualified(shadow()),
          "UPDATE " + control_table() +
              " SET state = 'pending', conflicts = conflicts + 1, live_writes = 0,"
              " rows_written = 0, filled_upto = lower_bound" +
              row_where()};
}

}  // namespace partop
