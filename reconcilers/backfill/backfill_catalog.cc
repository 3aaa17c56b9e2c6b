#include "reconcilers/backfill/backfill_catalog.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "reconcilers/partition/catalog_reader.h"
#include "reconcilers/partition/layout.h"
#include "reconcilers/partition/sql_text.h"

namespace partop {
namespace {

constexpr auto text = text_or_empty;  // a value's text, "" for NULL

std::vector<std::string> names(DatabaseSession& session, const std::string& sql,
                               const std::string& relation) {
  std::vector<std::string> out;
  for (const auto& row : session.query(sql, {relation})) out.push_back(text(row[0]));
  return out;
}

std::vector<BackfillRow> read_rows(DatabaseSession& session, const Backfill& backfill) {
  const QualifiedName control{backfill.spec.table.schema, std::string(kBackfillStateTable)};
  std::vector<BackfillRow> rows;
  if (text(session.query("SELECT to_regclass($1) IS NOT NULL", {sql::qualified(control)})[0][0]) !=
      "t")
    return rows;
  for (const auto& row : session.query(
           "SELECT lower_bound, upper_bound, partition_name, state, filled_upto, rows_written,"
           " live_writes, conflicts FROM " +
               sql::qualified(control) +
               " WHERE table_name = $1 AND backfill = $2 ORDER BY lower_bound",
           {backfill.spec.table.name, backfill.key()})) {
    BackfillRow r;
    r.lower = std::stoll(text(row[0]));
    r.upper = std::stoll(text(row[1]));
    r.partition = text(row[2]);
    r.state = text(row[3]);
    r.filled_upto = std::stoll(text(row[4]));
    r.rows_written = std::stoll(text(row[5]));
    r.live_writes = std::stoll(text(row[6]));
    r.conflicts = std::stoi(text(row[7]));
    rows.push_back(std::move(r));
  }
  return rows;
}

LivePartition read_live_partition(DatabaseSession& session, const ObservedPartition& partition) {
  LivePartition live;
  live.partition = partition;
  PolicySpec lookup;
  lookup.table = partition.name;
  live.table = read_table(session, lookup);
  const std::string name = sql::qualified(partition.name);
  for (const auto& row :
       session.query("SELECT ic.relname, pg_get_indexdef(ix.indexrelid), ix.indisunique,"
                     " coalesce((SELECT pg_get_constraintdef(con.oid) FROM pg_constraint con"
                     "   WHERE con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid"
                     "   AND con.contype IN ('p', 'u', 'x')), '')"
                     " FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid"
                     " WHERE ix.indrelid = to_regclass($1) ORDER BY ic.relname",
                     {name})) {
    const std::string definition = text(row[1]);
    const auto using_at = definition.find(" USING ");
    live.indexes.push_back({text(row[0]),
                            using_at == std::string::npos ? "" : definition.substr(using_at),
                            text(row[2]) == "t", text(row[3])});
  }
  for (const auto& row :
       session.query("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                     " WHERE conrelid = to_regclass($1) AND contype = 'f' ORDER BY conname",
                     {name})) {
    live.foreign_keys.emplace_back(text(row[0]), text(row[1]));
  }
  const auto trigger_and_size = session.query(
      "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1)"
      " AND tgname = 'partop_backfill_writes'), pg_relation_size(to_regclass($1))",
      {name});
  live.write_trigger = text(trigger_and_size[0][0]) == "t";
  live.heap_bytes = std::stoll(text(trigger_and_size[0][1]));
  const std::string shadow =
      sql::qualified({partition.name.schema, shadow_name(partition.name.name)});
  live.shadow_exists =
      text(session.query("SELECT to_regclass($1) IS NOT NULL", {shadow})[0][0]) == "t";
  live.replaced_name_taken =
      text(session.query(
          "SELECT to_regclass($1) IS NOT NULL",
          {sql::qualified({partition.name.schema,
                           derived_name(partition.name.name, "replaced")})})[0][0]) == "t";
  if (live.shadow_exists) {
    live.shadow_indexes = names(session,
                                "SELECT c.relname FROM pg_index i JOIN pg_class c"
                                " ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass",
                                shadow);
    live.shadow_foreign_keys = names(session,
                                     "SELECT conname FROM pg_constraint"
                                     " WHERE conrelid = $1::regclass AND contype = 'f'",
                                     shadow);
  }
  return live;
}

}  // namespace

const BackfillRow* ObservedBackfill::row(KeyValue lower) const {
  for (const auto& r : rows) {
    if (r.lower == lower) return &r;
  }
  return nullptr;
}

std::string shadow_name(const std::string& partition) {
  return derived_name(partition, "shadow");
}

std::string shadow_index_name(const std::string& index) {
  return derived_name(index, "shadow");
}

RangePartitions range_partitions(const BackfillSpec& spec, const ObservedTable& table) {
  RangePartitions out;
  if (!table.key_type) return out;
  const KeyType type = *table.key_type;
  out.from = spec.from.as(type);
  out.to = spec.to.as(type);
  const std::string expected = is_time_key(type) ? "a date or UTC time" : "an integer";
  if (!out.from || !out.to) {
    out.error = std::string("spec.range.") + (!out.from ? "from" : "to") + ": " +
                (!out.from ? spec.from.text : spec.to.text) + " is not " + expected + " (" +
                table.name.display() + " is partitioned on " + table.key_column + ", " +
                table.key_type_name + ")";
    return out;
  }
  if (*out.from >= *out.to) {
    out.error =
        "spec.range: from (" + spec.from.text + ") must be before to (" + spec.to.text + ")";
    return out;
  }
  for (const ObservedPartition* partition : ranged_partitions(table)) {
    if (partition->lower >= *out.from && partition->upper <= *out.to)
      out.partitions.push_back(*partition);
  }
  KeyValue expected_lower = *out.from;
  for (const auto& partition : out.partitions) {
    if (partition.lower != expected_lower) break;
    expected_lower = partition.upper;
  }
  if (out.partitions.empty() || out.partitions.front().lower != *out.from ||
      expected_lower != *out.to) {
    out.error =
        "spec.range: [" + spec.from.text + ", " + spec.to.text +
        ") is not a run of whole partitions of " + table.name.display() +
        " without gaps; its bounds must be partition bounds (" +
        (expected_lower == *out.from ? "no partition starts at " + spec.from.text
                                     : "partitions stop at " + key_display(type, expected_lower)) +
        ")";
    out.partitions.clear();
    return out;
  }
  if (spec.order == BackfillOrder::kNewestFirst)
    std::reverse(out.partitions.begin(), out.partitions.end());
  return out;
}

std::optional<ObservedPartition> next_partition(const std::vector<ObservedPartition>& in_order,
                                                const std::vector<BackfillRow>& rows) {
  const auto row_of = [&](const ObservedPartition& p) -> const BackfillRow* {
    for (const auto& r : rows) {
      if (r.lower == p.lower && r.upper == p.upper) return &r;
    }
    return nullptr;
  };
  const ObservedPartition* best = nullptr;
  int best_conflicts = 0;
  for (const auto& partition : in_order) {
    const BackfillRow* r = row_of(partition);
    if (r != nullptr && (r->state == "building" || r->state == "ready")) return partition;
    if (r != nullptr && r->state == "swapped") continue;
    const int conflicts = r == nullptr ? 0 : r->conflicts;
    if (best == nullptr || conflicts < best_conflicts) {
      best = &partition;
      best_conflicts = conflicts;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

ObservedBackfill read_backfill(DatabaseSession& session, const Backfill& backfill) {
  ObservedBackfill observed;
  const BackfillSpec& spec = backfill.spec;
  PolicySpec lookup;
  lookup.table = spec.table;
  observed.table = read_table(session, lookup);
  const SqlRows source = session.query(
      "SELECT (SELECT json_agg(attname ORDER BY attnum) FROM pg_attribute"
      "  WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped)"
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
      {spec.source.schema, spec.source.name});
  observed.source_exists = !source.empty();
  if (observed.source_exists && source[0][0]) {
    for (const auto& column : nlohmann::json::parse(*source[0][0]))
      observed.source_columns.push_back(column.get<std::string>());
  }
  observed.rows = read_rows(session, backfill);
  const RangePartitions range = range_partitions(spec, observed.table);
  if (auto next = next_partition(range.partitions, observed.rows))
    observed.current = read_live_partition(session, *next);
  return observed;
}

}  // namespace partop
