#include "reconcilers/backfill/backfill_planner.h"

#include <algorithm>

#include "reconcilers/backfill/backfill_ddl.h"

namespace partop {
namespace {

// Rebuilds of one partition the application's writes may spoil before the backfill stops and
// asks a human: writes that go on would otherwise make it rebuild that partition forever.
constexpr int kMaxConflicts = 3;

KeyValue to_epoch(TimePoint now) {
  return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

class BackfillPlanBuilder {
 public:
  BackfillPlanBuilder(const Backfill& backfill, const ObservedBackfill& observed, TimePoint now)
      : backfill_(backfill), spec_(backfill.spec), observed_(observed), now_(to_epoch(now)) {}

  BackfillPlan build() {
    if (!check_table() || !check_source()) return std::move(plan_);
    const RangePartitions range = range_partitions(spec_, observed_.table);
    if (!range.error.empty()) {
      block(range.from && range.to ? "RangeNotOnPartitionBounds" : "InvalidSpec", range.error);
      return std::move(plan_);
    }
    if (!check_range_is_history(range)) return std::move(plan_);
    count_progress(range);
    if (!observed_.current) {
      plan_.complete = true;
      return std::move(plan_);
    }
    plan_partition(*observed_.current);
    return std::move(plan_);
  }

 private:
  void block(const std::string& reason, const std::string& message) {
    plan_.findings.push_back({Finding::Severity::kBlocking, reason, message});
  }

  bool check_table() {
    const ObservedTable& table = observed_.table;
    const std::string name = spec_.table.display();
    if (!table.exists) {
      block("TableNotFound", "table " + name + " does not exist");
      return false;
    }
    if (table.strategy != "range" || table.key_column_count != 1 || table.key_column.empty() ||
        !table.key_type) {
      block("TableNotPartitioned",
            name + " is not range-partitioned on one column of a supported type");
      return false;
    }
    if (!table.referencing_foreign_keys.empty()) {
      std::string list;
      for (const auto& fk : table.referencing_foreign_keys) list += (list.empty() ? "" : ", ") + fk;
      block("ReferencedByForeignKey",
            name + " is referenced by foreign key(s) " + list +
                ": a partition holding referenced rows cannot be detached for the swap");
      return false;
    }
    return true;
  }

  bool check_source() {
    const std::string source = spec_.source.display();
    if (!observed_.source_exists) {
      block("SourceNotFound", "spec.source: " + source + " is not a table or view");
      return false;
    }
    std::string missing;
    for (const auto& column : observed_.table.columns) {
      const auto& have = observed_.source_columns;
      if (std::find(have.begin(), have.end(), column) == have.end())
        missing += (missing.empty() ? "" : ", ") + column;
    }
    if (!missing.empty()) {
      block("SourceColumnsMissing", "spec.source: " + source + " has no column(s) " + missing +
                                        " of " + spec_.table.display());
      return false;
    }
    return true;
  }

  // Writes go to the partition holding now (time keys) or the largest key (integer keys) and
  // to those after it: a rebuild of one of those would lose them.
  bool check_range_is_history(const RangePartitions& range) {
    const ObservedTable& table = observed_.table;
    const KeyType type = *table.key_type;
    const bool reaches_present =
        is_time_key(type) ? *range.to > now_ : (table.max_key && *range.to > *table.max_key);
    if (!reaches_present) return true;
    block("RangeIncludesCurrent",
          "spec.range: [" + spec_.from.text + ", " + spec_.to.text + ") reaches " +
              (is_time_key(type) ? "the partition holding now (" + key_display(type, now_) + ")"
                                 : "the partition holding the largest key (" +
                                       key_display(type, *table.max_key) + ")") +
              " or later ones, which the application still writes to");
    return false;
  }

  void count_progress(const RangePartitions& range) {
    BackfillProgress& progress = plan_.progress;
    progress.total = static_cast<int>(range.partitions.size());
    for (const auto& partition : range.partitions) {
      const BackfillRow* row = observed_.row(partition.lower);
      if (row == nullptr) continue;
      if (row->state == "swapped") ++progress.done;
      if (row->state == "pending") ++progress.set_aside;
      if (row->state != "pending") progress.rows_written += row->rows_written;
    }
    if (observed_.current) progress.current = observed_.current->partition.name.display();
  }

  Action action(ActionKind kind, std::string summary, std::vector<std::string> statements,
                std::vector<LockRequest> locks) const {
    Action out{kind, std::move(summary)};
    out.statements = std::move(statements);
    out.locks = std::move(locks);
    return out;
  }

  void plan_partition(const LivePartition& live) {
    const BackfillDdl ddl(backfill_, observed_);
    const QualifiedName& name = live.partition.name;
    const QualifiedName shadow = ddl.shadow();
    const BackfillRow* row = observed_.row(live.partition.lower);
    const bool under_way = row != nullptr && (row->state == "building" || row->state == "ready");
    if (under_way && row->live_writes > 0) {
      plan_.findings.push_back(
          {Finding::Severity::kWarning, "Conflict",
           name.display() + " received " + std::to_string(row->live_writes) +
               " row write(s) from the application during its rebuild; rebuilt again at the "
               "end of the pass"});
      plan_.actions.push_back(action(ActionKind::kSetAsideRebuild,
                                     "set aside the rebuild of " + name.display() +
                                         " (written to meanwhile); drop " + shadow.display(),
                                     ddl.set_aside(), {{name, LockMode::kAccessExclusive}}));
      plan_.actions.back().queues_behind_short_transactions = true;
      return;
    }
    if (live.table.relkind != 'r') {
      // A sub-partitioned or foreign partition would come back as a plain table.
      block("UnsupportedPartition", name.display() + " is not a plain table (relkind '" +
                                        std::string(1, live.table.relkind) +
                                        "'): partop rebuilds plain partitions only");
      return;
    }
    if (row != nullptr && row->state == "pending" && row->conflicts >= kMaxConflicts) {
      block("Conflict",
            name.display() + " was written to during " + std::to_string(row->conflicts) +
                " rebuilds: the application still writes into it. Stop those writes "
                "(or leave the partition out of spec.range), then delete its row from " +
                spec_.table.schema + "." + std::string(kBackfillStateTable) + " to try again");
      return;
    }
    if (spec_.replaced == ReplacedPartition::kKeep && live.replaced_name_taken) {
      block("ReplacedNameTaken",
            ddl.replaced().display() +
                " exists (kept by an earlier backfill): drop or rename it, or set spec.replaced "
                "to drop");
      return;
    }
    if (!under_way || !live.shadow_exists) {
      plan_.actions.push_back(action(ActionKind::kStartBackfill,
                                     "start rebuilding " + name.display() + " from " +
                                         spec_.source.display() + " in " + shadow.display(),
                                     ddl.start(), {{name, LockMode::kShareRowExclusive}}));
      // Creating the triggers conflicts with every write into the partition, however short.
      plan_.actions.back().queues_behind_short_transactions = true;
      return;
    }
    if (row->state == "ready") {
      Action swap =
          action(ActionKind::kSwapPartition,
                 "swap " + shadow.display() + " in for " + name.display() + " (" +
                     (spec_.replaced == ReplacedPartition::kKeep
                          ? "kept detached as " + ddl.replaced().display()
                          : "dropped") +
                     ")",
                 ddl.swap(),
                 {{spec_.table, LockMode::kAccessExclusive}, {name, LockMode::kAccessExclusive}});
      swap.queues_behind_short_transactions = true;
      plan_.actions.push_back(std::move(swap));
      return;
    }
    if (row->filled_upto < live.partition.upper) {
      // Every remaining slice, each its own transaction recording its progress: a stop or a
      // kill between two of them resumes at the next.
      const KeyValue span = live.partition.upper - live.partition.lower;
      const int slices = fill_slices(spec_, live.heap_bytes);
      const KeyValue width = std::max<KeyValue>(1, (span + slices - 1) / slices);
      const KeyType type = *observed_.table.key_type;
      plan_.filling = true;
      for (KeyValue from = row->filled_upto; from < live.partition.upper;) {
        const KeyValue to = std::min(live.partition.upper, from + width);
        plan_.actions.push_back(
            action(ActionKind::kFillSlice,
                   "fill " + shadow.display() + " from " + spec_.source.display() + " for [" +
                       key_display(type, from) + ", " + key_display(type, to) + ")",
                   ddl.fill_slice(from, to),
                   {{shadow, LockMode::kRowExclusive}, {spec_.source, LockMode::kAccessShare}}));
        from = to;
      }
      return;
    }
    const auto has = [](const std::vector<std::string>& names, const std::string& wanted) {
      return std::find(names.begin(), names.end(), wanted) != names.end();
    };
    for (const LiveIndex& index : live.indexes) {
      if (has(live.shadow_indexes, shadow_index_name(index.name))) continue;
      plan_.actions.push_back(action(ActionKind::kPrepareShadow,
                                     "build index " + shadow_index_name(index.name) + " on " +
                                         shadow.display() + " (as " + index.name + ")",
                                     ddl.build_index(index), {{shadow, LockMode::kShare}}));
    }
    for (const auto& [fk_name, definition] : live.foreign_keys) {
      if (has(live.shadow_foreign_keys, fk_name)) continue;
      plan_.actions.push_back(action(
          ActionKind::kPrepareShadow,
          "add foreign key " + fk_name + " to " + shadow.display() + " (NOT VALID)",
          ddl.add_foreign_key(fk_name, definition), {{shadow, LockMode::kShareRowExclusive}}));
    }
    if (!plan_.actions.empty()) return;
    plan_.actions.push_back(
        action(ActionKind::kFinishShadow,
               live.foreign_keys.empty()
                   ? "ANALYZE " + shadow.display()
                   : "validate the foreign keys of " + shadow.display() + " and ANALYZE it",
               ddl.finish(), {{shadow, LockMode::kShareUpdateExclusive}}));
  }

  const Backfill& backfill_;
  const BackfillSpec& spec_;
  const ObservedBackfill& observed_;
  const KeyValue now_;
  BackfillPlan plan_;
};

}  // namespace

int fill_slices(const BackfillSpec& spec, int64_t live_heap_bytes) {
  if (spec.slices_per_partition) return *spec.slices_per_partition;
  constexpr int64_t kMaxSlices = 10000;  // the bound spec.slicesPerPartition has
  return static_cast<int>(std::clamp<int64_t>(
      (std::max<int64_t>(0, live_heap_bytes) + kAutoSliceBytes - 1) / kAutoSliceBytes, 1,
      kMaxSlices));
}

bool BackfillPlan::blocked() const {
  return any_blocking(findings);
}

BackfillPlan plan_backfill(const Backfill& backfill, const ObservedBackfill& observed,
                           TimePoint now) {
  return BackfillPlanBuilder(backfill, observed, now).build();
}

}  // namespace partop
