#include "reconcilers/partition/planner.h"

#include <algorithm>
#include <map>
#include <set>

#include "reconcilers/partition/ddl.h"
#include "reconcilers/partition/index_predicate.h"
#include "reconcilers/partition/plan_checks.h"

namespace partop {
namespace {

// Upper bound on grid cells examined in one plan, so a runaway span (width 1 over a billion
// keys) cannot stall the planner; the rest is planned on the next reconcile.
constexpr int64_t kMaxCellsPerPlan = 100'000;
// How far before the oldest partition kept DEFAULT rows are still drained into new partitions
// (1,000 days for a daily policy, about 41 days for an hourly one).
constexpr int64_t kMaxCellsBehind = 1000;

KeyValue to_epoch(TimePoint now) {
  return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

// Everything the planning steps share about one reconcile.
class PlanBuilder {
 public:
  PlanBuilder(const PolicySpec& spec, const ObservedTable& table, const ObservedServer& server,
              TimePoint now)
      : spec_(spec),
        table_(table),
        ranged_(ranged_partitions(table)),
        server_(server),
        now_(to_epoch(now)),
        ddl_(table) {}

  Plan build() {
    if (!check_table(table_, plan_.findings) ||
        !check_spec_against_table(spec_, table_, plan_.findings)) {
      return std::move(plan_);
    }
    plan_.key_type = table_.key_type;
    grid_ = spec_.interval.unit ? PartitionGrid::time(*spec_.interval.unit)
                                : PartitionGrid::integer(spec_.interval.width);
    anchor_ = grid_->floor(is_time_key(*table_.key_type) ? now_ : table_.max_key.value_or(0));
    retention_cutoff_ = retention_cutoff(spec_, table_, now_);
    plan_.figures = layout_figures(table_, anchor_);
    // Parent indexes come first so that every partition created below copies them (LIKE ...
    // INCLUDING INDEXES) and ATTACH links the copies: new partitions need no index builds.
    plan_parent_indexes();
    plan_default_partition();
    plan_cells();
    plan_partition_indexes();
    plan_retention();
    return std::move(plan_);
  }

 private:
  void finding(Finding::Severity severity, std::string reason, std::string message) {
    plan_.findings.push_back({severity, std::move(reason), std::move(message)});
  }

  bool expired(KeyValue upper) const {
    return retention_cutoff_ && upper != kUnboundedAbove && upper <= *retention_cutoff_;
  }

  const std::string& name_base() const {
    return spec_.partition_name_base ? *spec_.partition_name_base : table_.name.name;
  }

  std::string display(KeyValue value) const { return key_display(*table_.key_type, value); }
  std::string range(KeyValue lower, KeyValue upper) const {
    return "[" + display(lower) + ", " + display(upper) + ")";
  }

  bool in_maintenance_window() const {
    const auto& window = spec_.schedule.maintenance_window;
    if (!window) return true;
    const int64_t local = now_ + server_.window_utc_offset_seconds;
    const int minute = static_cast<int>(((local % 86400) + 86400) % 86400 / 60);
    if (window->start_minute < window->end_minute) {
      return minute >= window->start_minute && minute < window->end_minute;
    }
    return minute >= window->start_minute || minute < window->end_minute;
  }

  bool storage_over_threshold() const {
    const auto& storage = spec_.guards.storage;
    return storage &&
           static_cast<long double>(server_.database_size_bytes) * 100 >
               static_cast<long double>(storage->capacity_bytes) * storage->threshold_percent;
  }

  void plan_default_partition() {
    const ObservedPartition* existing = table_.default_partition();
    if (existing != nullptr) {
      default_name_ = existing->name;
      return;
    }
    if (!spec_.default_enabled) return;
    default_name_ = ddl_.sibling(derived_name(name_base(), "default"));
    Action action{ActionKind::kCreateDefault,
                  "create DEFAULT partition " + default_name_->display()};
    action.statements = ddl_.create_default(*default_name_);
    action.locks = {{table_.name, LockMode::kShareUpdateExclusive}};
    plan_.actions.push_back(std::move(action));
  }

  const ObservedParentIndex* parent_index(const std::string& name) const {
    for (const auto& index : table_.indexes) {
      if (index.name == name) return &index;
    }
    return nullptr;
  }

  void plan_parent_indexes() {
    for (const IndexSpec& index : spec_.indexes) {
      const ObservedParentIndex* observed = parent_index(index.name);
      if (observed == nullptr) {
        Action action{ActionKind::kCreateParentIndex, "create index " + index.name + " on " +
                                                          table_.name.display() + " (ONLY parent)"};
        action.statements = {ddl_.create_parent_index(index)};
        action.locks = {{table_.name, LockMode::kShare}};
        action.provides = {parent_index_step(index.name)};
        plan_.actions.push_back(std::move(action));
        continue;
      }
      if (!declared_index_matches(*observed, index)) {
        finding(Finding::Severity::kWarning, "IndexDefinitionMismatch",
                "index " + index.name + " on " + table_.name.display() +
                    " exists with a different definition than declared; left untouched");
        mismatched_indexes_.insert(index.name);
      }
    }
  }

  // A new partition for [lower, upper), filled from DEFAULT for a drain.
  Action partition_action(ActionKind kind, const QualifiedName& name, KeyValue lower,
                          KeyValue upper) const {
    Action action{kind, ""};
    TableDdl::NewPartition ddl = ddl_.create_partition(
        name, lower, upper,
        kind == ActionKind::kDrainDefault ? default_name_ : std::optional<QualifiedName>());
    action.statements = std::move(ddl.statements);
    action.moved_rows_statement = ddl.moved_rows_statement;
    action.locks = {{table_.name, LockMode::kShareUpdateExclusive}};
    if (default_name_) action.locks.push_back({*default_name_, LockMode::kAccessExclusive});
    action.creates = {ExpectedPartition{name, lower, upper}};
    return action;
  }

  void plan_cells() {
    std::map<KeyValue, int64_t> buckets;
    int64_t bucketed_rows = 0;
    for (const auto& bucket : table_.default_buckets) {
      buckets[bucket.lower] += bucket.rows;
      bucketed_rows += bucket.rows;
    }
    if (table_.default_rows > bucketed_rows) {
      finding(Finding::Severity::kInfo, "DefaultRowsWithoutKey",
              std::to_string(table_.default_rows - bucketed_rows) +
                  " row(s) in DEFAULT have a NULL partition key and stay there");
    }

    const KeyValue forward_end = grid_->advance(anchor_, spec_.premake + 1);
    KeyValue lowest =
        spec_.cover_from ? std::min(anchor_, grid_->floor(*spec_.cover_from)) : anchor_;
    KeyValue highest = forward_end;
    for (const ObservedPartition* partition : ranged_) {
      // Gaps are filled from the oldest partition that retention keeps, not from expired ones.
      if (!expired(partition->upper)) {
        // A MINVALUE partition holds everything before its upper bound: the cells after it
        // are the ones to fill.
        const KeyValue start =
            partition->lower != kUnboundedBelow ? partition->lower : partition->upper;
        if (start != kUnboundedAbove) lowest = std::min(lowest, grid_->floor(start));
      }
      if (partition->upper != kUnboundedAbove) {
        highest = std::max(highest, grid_->next(grid_->floor(partition->upper - 1)));
      }
    }
    // The policy's horizon, so that a few stray keys (a client with a broken clock) can neither
    // stop the policy nor make it plan thousands of partitions: back to kMaxCellsBehind cells
    // before the oldest partition kept (or now), ahead to twice the forward buffer.
    const KeyValue horizon_start = grid_->advance(lowest, -kMaxCellsBehind);
    const KeyValue horizon_end =
        std::max(highest, grid_->advance(anchor_, 2 * (int64_t{spec_.premake} + 1)));
    int64_t outside_rows = 0;
    std::optional<KeyValue> outside_example;
    for (const auto& [lower, rows] : buckets) {
      const KeyValue upper = grid_->next(lower);
      if (lower < horizon_start || lower >= horizon_end) {
        outside_rows += rows;
        if (!outside_example || lower > anchor_) outside_example = lower;
        continue;
      }
      if (expired(upper)) {
        finding(Finding::Severity::kInfo, "RowsPastRetention",
                std::to_string(rows) + " row(s) in DEFAULT belong to " + range(lower, upper) +
                    ", which is past retention; they stay in DEFAULT (partop never deletes data "
                    "implicitly)");
        continue;
      }
      lowest = std::min(lowest, lower);
      highest = std::max(highest, upper);
    }
    if (retention_cutoff_) lowest = std::max(lowest, grid_->floor(*retention_cutoff_));
    if (outside_rows > 0 || table_.default_infinite_rows > 0) {
      std::string message = std::to_string(outside_rows + table_.default_infinite_rows) +
                            " row(s) in DEFAULT lie outside the policy's horizon " +
                            range(horizon_start, horizon_end) + " and stay there";
      if (outside_example)
        message += " (e.g. keys in " + range(*outside_example, grid_->next(*outside_example)) + ")";
      if (table_.default_infinite_rows > 0)
        message += "; " + std::to_string(table_.default_infinite_rows) + " with an infinite key";
      finding(Finding::Severity::kWarning, "RowsOutsideHorizon",
              message + "; fix or delete them, or widen premake or retention");
    }

    if (!layout_on_grid()) return;

    const bool storage_over = storage_over_threshold();
    const bool buffer_left =
        plan_.figures.buffered_until && *plan_.figures.buffered_until > grid_->next(anchor_);
    int deferred_for_storage = 0;
    std::vector<Action> current_and_forward;
    std::vector<Action> others;
    int64_t cells = 0;
    for (KeyValue lower = lowest; lower < highest; lower = grid_->next(lower)) {
      if (++cells > kMaxCellsPerPlan) {
        finding(Finding::Severity::kWarning, "PlanTruncated",
                "more than " + std::to_string(kMaxCellsPerPlan) +
                    " intervals to examine; the rest is planned on the next reconcile");
        break;
      }
      const KeyValue upper = grid_->next(lower);
      // Every partition kept lies on the grid (layout_on_grid), so a cell is covered or free.
      if (cell_coverage(ranged_, lower, upper).kind != CellCoverage::Kind::kFree) continue;
      const auto bucket = buckets.find(lower);
      const int64_t rows = bucket == buckets.end() ? 0 : bucket->second;
      const QualifiedName name = ddl_.sibling(partition_name(name_base(), *grid_, lower));
      Action action = [&] {
        if (rows > 0) {
          Action drain = partition_action(ActionKind::kDrainDefault, name, lower, upper);
          drain.summary = "drain " + std::to_string(rows) + " row(s) of " + range(lower, upper) +
                          " from DEFAULT into new partition " + name.display();
          return drain;
        }
        Action create = partition_action(ActionKind::kCreatePartition, name, lower, upper);
        create.summary = "create partition " + name.display() + " " + range(lower, upper);
        return create;
      }();
      if (rows > 0 && !table_.referencing_foreign_keys.empty()) {
        // A drain deletes each row from DEFAULT and inserts it again: a foreign key's ON DELETE
        // CASCADE or SET NULL would fire on rows that only moved, and NO ACTION would refuse.
        finding(Finding::Severity::kWarning, "ReferencedByForeignKey",
                std::to_string(rows) + " row(s) of " + range(lower, upper) +
                    " stay in DEFAULT: the table is referenced by foreign key " +
                    table_.referencing_foreign_keys.front() +
                    ", whose ON DELETE action would fire on a move; create the partition by hand "
                    "in a maintenance window");
        continue;
      }
      if (rows > 0 && !spec_.default_drain) {
        finding(Finding::Severity::kWarning, "DefaultPartitionNotEmpty",
                std::to_string(rows) + " row(s) of " + range(lower, upper) +
                    " are in DEFAULT and drain is disabled; the partition cannot be created");
        continue;
      }
      if (rows == 0 && storage_over && buffer_left && lower > anchor_) {
        ++deferred_for_storage;
        continue;
      }
      (lower >= anchor_ ? current_and_forward : others).push_back(std::move(action));
    }
    if (deferred_for_storage > 0) {
      finding(Finding::Severity::kDeferred, "StorageQuotaExceeded",
              "database size " + std::to_string(server_.database_size_bytes) + " bytes is over " +
                  std::to_string(spec_.guards.storage->threshold_percent) + "% of capacity " +
                  std::to_string(spec_.guards.storage->capacity_bytes) + " bytes; " +
                  std::to_string(deferred_for_storage) +
                  " new partition(s) postponed while the buffer lasts (until " +
                  display(*plan_.figures.buffered_until) + ")");
    }
    for (auto& action : current_and_forward) plan_.actions.push_back(std::move(action));
    for (auto& action : others) plan_.actions.push_back(std::move(action));
  }

  // Dependency names (Action::provides/needs) of the indexes this plan creates.
  static std::string parent_index_step(const std::string& index) { return "parent-index " + index; }
  static std::string index_step(const QualifiedName& index) { return "index " + index.display(); }

  // Attaching an index whose build just failed would attach an invalid index, and there is
  // nothing to attach to if the parent index could not be created.
  // True when every partition retention keeps has bounds on the policy's grid and spans one
  // cell (a MINVALUE or MAXVALUE side aside). Otherwise the layout is ambiguous — a hand-made
  // partition off the grid, or one of another width — and creating the policy's cells next to
  // it would leave holes that route rows to DEFAULT forever or mix widths: no cell is created
  // or drained until a human settles it (the other steps go on).
  bool layout_on_grid() {
    bool on_grid = true;
    for (const ObservedPartition* partition : ranged_) {
      if (expired(partition->upper)) continue;
      const bool lower_finite = partition->lower != kUnboundedBelow;
      const bool upper_finite = partition->upper != kUnboundedAbove;
      const bool aligned = (!lower_finite || grid_->floor(partition->lower) == partition->lower) &&
                           (!upper_finite || grid_->floor(partition->upper) == partition->upper);
      const std::string name = "partition " + partition->name.display() + " " +
                               range(partition->lower, partition->upper);
      if (!aligned) {
        finding(Finding::Severity::kWarning, "PartitionConflict",
                name + " is not aligned on the grid of the policy's interval (" +
                    spec_.interval.text +
                    "); no partition is created or drained while the layout is ambiguous "
                    "(cells beside it would leave holes that route rows to DEFAULT)");
        on_grid = false;
      } else if (lower_finite && upper_finite &&
                 grid_->next(partition->lower) != partition->upper) {
        finding(Finding::Severity::kWarning, "LayoutMismatch",
                name + " spans several of the policy's intervals (" + spec_.interval.text +
                    "); no partition of another width is created beside it: declare the "
                    "interval the table uses, or re-partition it by hand");
        on_grid = false;
      }
    }
    return on_grid;
  }

  Action attach_action(const std::string& parent_index, const QualifiedName& child,
                       const std::string& summary) const {
    Action attach{ActionKind::kAttachPartitionIndex, summary};
    attach.statements = {ddl_.attach_index(parent_index, child)};
    attach.locks = {{table_.name, LockMode::kShareUpdateExclusive}};
    attach.needs = {parent_index_step(parent_index), index_step(child)};
    return attach;
  }

  Action rebuild_action(const QualifiedName& index, const QualifiedName& table,
                        const std::string& summary) const {
    Action action{ActionKind::kRebuildIndex, summary};
    action.transactional = false;
    action.statements = {TableDdl::reindex(index)};
    action.locks = {{table, LockMode::kShareUpdateExclusive}};
    action.provides = {index_step(index)};
    return action;
  }

  void plan_partition_indexes() {
    std::map<std::pair<std::string, std::string>, const ObservedPartitionIndex*> attached;
    std::map<std::string, const ObservedPartitionIndex*> by_name;
    for (const auto& index : table_.partition_indexes) {
      if (!index.parent_index.empty()) attached[{index.partition, index.parent_index}] = &index;
      by_name[index.name.name] = &index;
    }
    const bool window_open = in_maintenance_window();
    int deferred_rebuilds = 0;
    std::set<std::string> handled;  // invalid indexes already planned (or deferred)

    for (const IndexSpec& index : spec_.indexes) {
      if (mismatched_indexes_.count(index.name)) continue;
      const ObservedParentIndex* parent = parent_index(index.name);
      // Valid: every partition has it attached (ObservedPartitionIndex).
      if (parent != nullptr && parent->valid) continue;
      bool parent_revalidated = false;
      const ObservedPartitionIndex* any_attached = nullptr;
      for (const ObservedPartition& observed : table_.partitions) {
        const QualifiedName& partition = observed.name;
        if (parent != nullptr) {
          if (auto it = attached.find({partition.name, index.name}); it != attached.end()) {
            const ObservedPartitionIndex& child = *it->second;
            any_attached = &child;
            if (child.valid) continue;
            handled.insert(child.name.display());
            if (!window_open) {
              ++deferred_rebuilds;
              continue;
            }
            // Rebuilt in place, then attached again: re-attaching is what makes PostgreSQL
            // re-check the parent index and mark it valid.
            plan_.actions.push_back(rebuild_action(
                child.name, partition, "rebuild invalid index " + child.name.display()));
            plan_.actions.push_back(
                attach_action(index.name, child.name,
                              "re-attach index " + child.name.display() + " to " + index.name));
            parent_revalidated = true;
            continue;
          }
        }
        const QualifiedName child = ddl_.sibling(derived_name(partition.name, index.name));
        const auto leftover = by_name.find(child.name);
        if (leftover == by_name.end()) {
          Action action{
              ActionKind::kBuildPartitionIndex,
              "build index " + child.display() + " on " + partition.display() + " concurrently"};
          action.transactional = false;
          action.statements = {ddl_.build_partition_index(child, partition, index)};
          action.locks = {{partition, LockMode::kShareUpdateExclusive}};
          action.provides = {index_step(child)};
          // A parent index PostgreSQL refused would leave these builds orphaned.
          action.needs = {parent_index_step(index.name)};
          plan_.actions.push_back(std::move(action));
        } else if (!leftover->second->valid) {
          // A failed concurrent build of ours. Not deferred to the maintenance window: the
          // partition has no usable index until this runs.
          handled.insert(child.display());
          Action action = rebuild_action(
              child, partition,
              "rebuild invalid index " + child.display() + " left by a failed build");
          action.kind = ActionKind::kBuildPartitionIndex;
          action.needs = {parent_index_step(index.name)};
          plan_.actions.push_back(std::move(action));
        }
        plan_.actions.push_back(attach_action(
            index.name, child, "attach index " + child.display() + " to " + index.name));
        parent_revalidated = true;
      }
      if (parent != nullptr && !parent->valid && !parent_revalidated && any_attached != nullptr &&
          deferred_rebuilds == 0) {
        Action revalidate = attach_action(index.name, any_attached->name,
                                          "re-attach index " + any_attached->name.display() +
                                              " so that " + index.name + " is validated");
        revalidate.needs = {parent_index_step(index.name)};
        plan_.actions.push_back(std::move(revalidate));
      }
    }
    // Invalid indexes that are not ours to build (left by someone's failed concurrent build).
    for (const auto& index : table_.partition_indexes) {
      if (index.valid || !handled.insert(index.name.display()).second) continue;
      if (!window_open) {
        ++deferred_rebuilds;
        continue;
      }
      plan_.actions.push_back(rebuild_action(index.name, {index.name.schema, index.partition},
                                             "rebuild invalid index " + index.name.display()));
    }
    if (deferred_rebuilds > 0) {
      finding(Finding::Severity::kDeferred, "MaintenanceWindowClosed",
              std::to_string(deferred_rebuilds) +
                  " invalid index rebuild(s) wait for the maintenance window");
    }
  }

  void plan_retention() {
    if (!retention_cutoff_) return;
    const bool window_open = in_maintenance_window();
    int deferred = 0;
    for (const ObservedPartition* partition : ranged_) {
      if (!expired(partition->upper)) continue;
      if (!window_open) {
        ++deferred;
        continue;
      }
      const bool drop = spec_.retention->action == RetentionSpec::Action::kDrop;
      Action action{drop ? ActionKind::kDropPartition : ActionKind::kDetachPartition,
                    std::string(drop ? "drop" : "detach") + " expired partition " +
                        partition->name.display() + " " +
                        range(partition->lower, partition->upper)};
      action.statements = ddl_.remove_partition(partition->name, drop);
      action.locks = {{table_.name, LockMode::kAccessExclusive},
                      {partition->name, LockMode::kAccessExclusive}};
      plan_.actions.push_back(std::move(action));
    }
    if (deferred > 0) {
      finding(Finding::Severity::kDeferred, "MaintenanceWindowClosed",
              std::to_string(deferred) + " expired partition(s) wait for the maintenance window");
    }
  }

  const PolicySpec& spec_;
  const ObservedTable& table_;
  const std::vector<const ObservedPartition*> ranged_;  // ranged_partitions(table_)
  const ObservedServer& server_;
  const KeyValue now_;
  const TableDdl ddl_;
  Plan plan_;
  std::optional<PartitionGrid> grid_;
  KeyValue anchor_ = 0;
  std::optional<KeyValue> retention_cutoff_;
  std::optional<QualifiedName> default_name_;
  std::set<std::string> mismatched_indexes_;
};

}  // namespace

bool any_blocking(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Finding::Severity::kBlocking; });
}

bool Plan::blocked() const {
  return any_blocking(findings);
}

const ObservedPartition* ObservedTable::default_partition() const {
  for (const auto& partition : partitions) {
    if (partition.is_default) return &partition;
  }
  return nullptr;
}

Plan plan_reconcile(const PolicySpec& spec, const ObservedTable& table,
                    const ObservedServer& server, TimePoint now) {
  return PlanBuilder(spec, table, server, now).build();
}

}  // namespace partop
