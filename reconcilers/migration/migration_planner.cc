#include "reconcilers/migration/migration_planner.h"

#include <algorithm>

#include "reconcilers/migration/migration_ddl.h"
#include "reconcilers/partition/plan_checks.h"
#include "reconcilers/partition/planner.h"

namespace partop {
namespace {

class MigrationPlanBuilder {
 public:
  MigrationPlanBuilder(const MigrationSpec& spec, const ObservedMigration& observed,
                       const ObservedServer& server, TimePoint now)
      : spec_(spec), observed_(observed), server_(server), now_(now), ddl_(spec, observed) {}

  MigrationPlan build() {
    const MigrationState& state = observed_.state;
    plan_.phase = state.exists ? state.phase : "";
    if (!state.exists) {
      plan_start();
      return std::move(plan_);
    }
    if (!observed_.original.exists || !observed_.partitioned.exists) {
      block("MigrationStateInconsistent",
            "the migration of " + spec_.table.display() + " is recorded (phase " + state.phase +
                ") but its " + (observed_.original.exists ? "partitioned twin" : "original table") +
                " no longer exists; check by hand, then delete its row from " + spec_.table.schema +
                "." + std::string(kMigrationStateTable));
      return std::move(plan_);
    }
    if (state.strategy != strategy_name(spec_.strategy)) {
      block("StrategyChanged", "spec.strategy: the migration of " + spec_.table.display() +
                                   " runs with strategy " + state.strategy +
                                   "; it cannot change while the migration exists");
      return std::move(plan_);
    }
    if (state.phase == "Finalized") {
      const bool partitioned_kept = observed_.named == "partitioned";
      plan_.at_target = partitioned_kept == (spec_.target == MigrationTarget::kPartitioned);
      if (!plan_.at_target) {
        block("MigrationFinalized",
              "the migration was finalized with " +
                  std::string(partitioned_kept ? "the partitioned" : "the original") +
                  " table in use; its target can no longer change");
      }
      return std::move(plan_);
    }
    plan_twin_partitions();
    if (plan_.blocked()) return std::move(plan_);
    if (spec_.strategy == MigrationStrategy::kMove) {
      plan_move_phase(state.phase);
    } else {
      plan_phase(state.phase);
    }
    refuse_to_carry_rows_past_added_columns();
    return std::move(plan_);
  }

 private:
  void block(const std::string& reason, const std::string& message) {
    plan_.findings.push_back({Finding::Severity::kBlocking, reason, message});
  }

  Action action(ActionKind kind, std::string summary, std::vector<std::string> statements,
                std::vector<LockRequest> locks) const {
    Action out{kind, std::move(summary)};
    out.statements = std::move(statements);
    out.locks = std::move(locks);
    // Every write of the application conflicts with these steps' locks: they wait in the queue,
    // for at most lockTimeout, rather than wait for a moment when nobody writes.
    out.queues_behind_short_transactions = true;
    return out;
  }

  // Before the migration exists: everything that would make it impossible or lossy is refused
  // here, before any DDL.
  void plan_start() {
    const ObservedSource& source = observed_.original;
    const std::string name = spec_.table.display();
    if (!source.exists) return block("TableNotFound", "table " + name + " does not exist");
    if (source.relkind == 'p') {
      return block("AlreadyPartitioned",
                   name +
                       " is already partitioned and no migration of it is recorded; manage "
                       "it with a PartitionPolicy");
    }
    if (source.relkind != 'r') {
      return block("TableNotFound",
                   name + " is not a table (relkind '" + std::string(1, source.relkind) + "')");
    }
    if (spec_.target == MigrationTarget::kOriginal) {
      plan_.at_target = true;  // nothing has begun, nothing to undo
      return;
    }
    const SourceColumn* key = source.column(spec_.partition_key);
    if (key == nullptr) {
      return block("InvalidSpec", "spec.partitionKey: column " + spec_.partition_key +
                                      " does not exist in " + name);
    }
    // The policy checks of interval against key type and of declared indexes, on the table as
    // it will be.
    ObservedTable as_partitioned;
    as_partitioned.name = spec_.table;
    as_partitioned.key_column = spec_.partition_key;
    as_partitioned.key_type_name = key->type;
    as_partitioned.key_type = key_type_from_sql(key->type);
    for (const auto& column : source.columns) as_partitioned.columns.push_back(column.name);
    if (!as_partitioned.key_type) {
      return block("UnsupportedPartitionKey",
                   "partition key " + spec_.partition_key + " of " + name + " is of type " +
                       key->type +
                       "; supported key types are timestamptz, timestamp, date, "
                       "integer and bigint");
    }
    if (!check_spec_against_table(twin_policy_spec(), as_partitioned, plan_.findings)) return;
    if (ddl_.row_key().empty()) {
      block("NoPrimaryKey", name +
                                " has no primary key or unique NOT NULL key: rows could not "
                                "be told apart while both tables are kept in sync");
    }
    if (!source.referencing_foreign_keys.empty()) {
      std::string list;
      for (const auto& fk : source.referencing_foreign_keys)
        list += (list.empty() ? "" : ", ") + fk;
      block("ReferencedByForeignKey",
            name + " is referenced by foreign key(s) " + list +
                ", which would keep pointing at the original table after the swap");
    }
    if (!source.dependents.empty()) {
      std::string list;
      for (const auto& d : source.dependents) list += (list.empty() ? "" : ", ") + d;
      block("DependentObjects", list + " depend(s) on " + name +
                                    " and would stay with the original table after the swap; "
                                    "drop them or move them by hand first");
    }
    for (const SourceKey& unique : source.keys) {
      if (std::find(unique.columns.begin(), unique.columns.end(), spec_.partition_key) !=
          unique.columns.end()) {
        continue;
      }
      const std::string what = std::string(unique.primary      ? "primary key "
                                           : unique.constraint ? "unique constraint "
                                                               : "unique index ") +
                               unique.name;
      if (unique.has_expression || unique.partial) {
        block("UniqueConstraintNotCarried",
              what + " lacks the partition key " + spec_.partition_key +
                  " and has an expression or a WHERE clause: it cannot be carried to the "
                  "partitioned table");
        continue;
      }
      const auto& accepted = spec_.accept_per_partition_uniqueness;
      if (std::find(accepted.begin(), accepted.end(), unique.name) == accepted.end()) {
        block(
            "UniqueConstraintNotCarried",
            what + " (" +
                [&] {
                  std::string list;
                  for (const auto& c : unique.columns) list += (list.empty() ? "" : ", ") + c;
                  return list;
                }() +
                ") lacks the partition key " + spec_.partition_key +
                ": on the partitioned table it can only be unique per partition (with the key) "
                "plus a plain index; list " +
                unique.name + " in spec.acceptPerPartitionUniqueness to accept that");
      }
    }
    if (plan_.blocked()) return;
    plan_.actions.push_back(
        action(ActionKind::kPrepareMigration,
               "prepare " + ddl_.twin_name().display() + " partitioned by " + spec_.partition_key +
                   ", with the keys, indexes, grants and foreign keys of " + name,
               ddl_.prepare(), {{source.name, LockMode::kAccessShare}}));
  }

  PolicySpec twin_policy_spec() const {
    PolicySpec policy;
    policy.table = observed_.partitioned.exists ? observed_.partitioned.name : spec_.table;
    policy.interval = spec_.interval;
    policy.premake = spec_.premake;
    policy.indexes = spec_.indexes;
    policy.guards = spec_.guards;
    policy.partition_name_base = spec_.table.name;
    // Rows that land in the twin's DEFAULT stay there until a PartitionPolicy takes over: a
    // drain locks DEFAULT EXCLUSIVE and then ACCESS EXCLUSIVE, and every statement through the
    // routing view (or the sync trigger's unpruned DELETE) reads DEFAULT and then writes it — the
    // upgrade would deadlock with the application.
    policy.default_drain = false;
    return policy;
  }

  // The twin's partitions, DEFAULT and declared indexes, by the PartitionPolicy planner. While
  // preparing, its layout reaches back to the source's oldest key (and, for integer keys, up to
  // its largest).
  void plan_twin_partitions() {
    PolicySpec policy = twin_policy_spec();
    ObservedTable twin = observed_.partitioned;
    twin.migration_phase.clear();  // the migration maintaining it is this one
    if (observed_.state.phase == "Preparing") {
      policy.cover_from = observed_.original.min_key;
      if (observed_.original.max_key &&
          (!twin.max_key || *twin.max_key < *observed_.original.max_key))
        twin.max_key = observed_.original.max_key;
    }
    Plan twin_plan = plan_reconcile(policy, twin, server_, now_);
    for (auto& finding : twin_plan.findings) plan_.findings.push_back(std::move(finding));
    twin_layout_pending_ = !twin_plan.actions.empty();
    plan_.maintenance = std::move(twin_plan.actions);
  }

  void plan_phase(const std::string& phase) {
    const bool to_partitioned = spec_.target == MigrationTarget::kPartitioned;
    const ObservedSource& source = observed_.original;
    const QualifiedName& twin = observed_.partitioned.name;
    if (phase == "Preparing") {
      // Triggers only once the twin can take every row: a row it could not route would fail
      // the application's write.
      if (twin_layout_pending_) return;
      plan_.actions.push_back(action(
          ActionKind::kStartSync,
          "start syncing " + source.name.display() + " into " + twin.display() + " (row triggers)",
          ddl_.start_sync(),
          {{source.name, LockMode::kShareRowExclusive}, {twin, LockMode::kShareRowExclusive}}));
      return;
    }
    if (phase == "Copying") {
      if (!to_partitioned) return at_target();
      plan_.copying = true;
      plan_.actions.push_back(
          action(ActionKind::kCopyBatch,
                 "copy the next " + std::to_string(spec_.batch_size) + " row(s) of " +
                     source.name.display() + " into " + twin.display(),
                 {ddl_.copy_batch()},
                 {{source.name, LockMode::kRowShare}, {twin, LockMode::kRowExclusive}}));
      return;
    }
    const bool swapped = phase == "Swapped";
    if (swapped == to_partitioned) return at_target();
    plan_.actions.push_back(
        action(ActionKind::kSwap,
               to_partitioned
                   ? "swap: " + twin.display() + " becomes " + spec_.table.display() + ", " +
                         source.name.display() + " becomes " + ddl_.retired_name().display()
                   : "roll back: " + source.name.display() + " becomes " + spec_.table.display() +
                         " again, " + twin.display() + " becomes " + ddl_.twin_name().display(),
               ddl_.swap(spec_.target),
               {{source.name, LockMode::kAccessExclusive}, {twin, LockMode::kAccessExclusive}}));
  }

  // The move strategy's phases: Preparing, then the routing view with rows moving towards the
  // target (Copying, or MovingBack towards the original) until the source side is empty (InSync,
  // MovedBack), then the view dropped (Swapped, RolledBack).
  void plan_move_phase(const std::string& phase) {
    const MigrationTarget target = spec_.target;
    const bool to_partitioned = target == MigrationTarget::kPartitioned;
    const ObservedSource& source = observed_.original;
    const QualifiedName& twin = observed_.partitioned.name;
    const QualifiedName& in_use = observed_.named == "partitioned" ? twin : source.name;
    const auto route = [&](MigrationTarget towards) {
      plan_.actions.push_back(action(
          ActionKind::kStartSync,
          "route writes through the view " + spec_.table.display() + " over " +
              ddl_.retired_name().display() + " and " + ddl_.twin_name().display() +
              ", new rows into the " +
              (towards == MigrationTarget::kPartitioned ? "partitioned" : "original") + " table",
          ddl_.start_routing(towards), {{in_use, LockMode::kAccessExclusive}}));
    };
    if (phase == "Preparing") {
      if (!twin_layout_pending_) route(MigrationTarget::kPartitioned);
      return;
    }
    if (phase == "Swapped" || phase == "RolledBack") {
      if ((phase == "Swapped") == to_partitioned) return at_target();
      return route(target);
    }
    // The view is in place.
    const bool moving_to_partitioned = phase == "Copying" || phase == "InSync";
    if (moving_to_partitioned != to_partitioned) {
      plan_.actions.push_back(action(ActionKind::kStartSync,
                                     "new rows into the " +
                                         std::string(to_partitioned ? "partitioned" : "original") +
                                         " table; rows move back the other way",
                                     ddl_.reroute(target), {}));
      return;
    }
    const QualifiedName& from = to_partitioned ? source.name : twin;
    const QualifiedName& to = to_partitioned ? twin : source.name;
    if (phase == "Copying" || phase == "MovingBack") {
      plan_.copying = true;
      plan_.actions.push_back(
          action(ActionKind::kCopyBatch,
                 "move the next " + std::to_string(spec_.batch_size) + " row(s) of " +
                     from.display() + " into " + to.display(),
                 {ddl_.move_batch(target)},
                 {{from, LockMode::kRowExclusive}, {to, LockMode::kRowExclusive}}));
      return;
    }
    plan_.actions.push_back(action(ActionKind::kSwap,
                                   "drop the view " + spec_.table.display() + "; " + to.display() +
                                       ", which holds every row, becomes " + spec_.table.display(),
                                   ddl_.end_routing(target),
                                   {{spec_.table, LockMode::kAccessExclusive},
                                    {source.name, LockMode::kAccessExclusive},
                                    {twin, LockMode::kAccessExclusive}}));
  }

  // The sync triggers and batches name the columns the migration started with. A column the
  // owner added since, to one table only, would lose its values in any step that carries rows to
  // the other table (a batch, a swap, a rollback): those steps are refused until it is dropped
  // again; reaching or staying at the target (and finalizing there) goes on.
  void refuse_to_carry_rows_past_added_columns() {
    const bool carries_rows =
        std::any_of(plan_.actions.begin(), plan_.actions.end(), [](const Action& action) {
          return action.kind == ActionKind::kCopyBatch || action.kind == ActionKind::kSwap ||
                 action.kind == ActionKind::kStartSync;
        });
    if (!carries_rows) return;
    const ObservedSource& source = observed_.original;
    const ObservedTable& twin = observed_.partitioned;
    const auto missing = [](const std::vector<std::string>& from,
                            const std::vector<std::string>& in) {
      std::string list;
      for (const auto& column : from) {
        if (std::find(in.begin(), in.end(), column) == in.end())
          list += (list.empty() ? "" : ", ") + column;
      }
      return list;
    };
    std::vector<std::string> source_columns;
    for (const auto& column : source.columns) {
      if (!column.generated) source_columns.push_back(column.name);
    }
    std::string message;
    if (const std::string list = missing(source_columns, twin.columns); !list.empty())
      message = "column(s) " + list + " of " + source.name.display() + " are not in " +
                twin.name.display();
    if (const std::string list = missing(twin.columns, source_columns); !list.empty())
      message += (message.empty() ? "" : "; ") + std::string("column(s) ") + list + " of " +
                 twin.name.display() + " are not in " + source.name.display();
    if (message.empty()) return;
    plan_.actions.clear();
    block("ColumnsChanged",
          message +
              ": the migration carries the columns it started with, so their values would be "
              "lost in the other table; drop them again to go on, or add them once the "
              "migration is finalized");
  }

  void at_target() {
    if (!spec_.finalize) {
      plan_.at_target = true;
      return;
    }
    const ObservedSource& source = observed_.original;
    const QualifiedName& twin = observed_.partitioned.name;
    plan_.actions.push_back(
        action(ActionKind::kFinalizeMigration,
               "finalize: stop syncing; keep " +
                   (spec_.target == MigrationTarget::kPartitioned ? source.name.display()
                                                                  : twin.display()) +
                   " as " + ddl_.retired_name().display(),
               spec_.strategy == MigrationStrategy::kMove ? ddl_.finalize_move() : ddl_.finalize(),
               {{source.name, LockMode::kAccessExclusive}, {twin, LockMode::kAccessExclusive}}));
  }

  const MigrationSpec& spec_;
  const ObservedMigration& observed_;
  const ObservedServer& server_;
  const TimePoint now_;
  const MigrationDdl ddl_;
  MigrationPlan plan_;
  bool twin_layout_pending_ = false;
};

}  // namespace

bool MigrationPlan::blocked() const {
  return any_blocking(findings);
}

MigrationPlan plan_migration(const MigrationSpec& spec, const ObservedMigration& observed,
                             const ObservedServer& server, TimePoint now) {
  return MigrationPlanBuilder(spec, observed, server, now).build();
}

}  // namespace partop
