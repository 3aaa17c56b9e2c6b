#include "reconcilers/list/list_planner.h"

#include <algorithm>
#include <map>
#include <set>

#include "reconcilers/partition/ddl.h"
#include "reconcilers/partition/index_predicate.h"
#include "reconcilers/partition/layout.h"
#include "reconcilers/partition/plan_checks.h"
#include "reconcilers/partition/planner.h"
#include "reconcilers/partition/sql_text.h"

namespace partop {
namespace {

// Room a tenant's name leaves for its sub-tree's suffixes ("_p2026120112" is the longest).
constexpr size_t kTenantNameBytes = 63 - 12;

bool plain_word(const std::string& value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

class ListPlanner {
 public:
  ListPlanner(const PolicySpec& spec, const ObservedListTable& table, const SourceValues& source,
              const std::vector<std::string>& taken_names, const ObservedServer& server,
              TimePoint now)
      : spec_(spec),
        table_(table),
        parent_(table.parent),
        source_(source),
        taken_(taken_names.begin(), taken_names.end()),
        ddl_(table.parent),
        server_(server),
        now_(now) {}

  ListPlan run() {
    if (!check_table() || !check_spec()) return std::move(out_);
    if (source_.reason) {
      blocking(*source_.reason, source_.error);
      return std::move(out_);
    }
    plan_parent_indexes();
    plan_default();
    plan_tenants();
    plan_index_attachments();
    report_values_without_source();
    figures();
    return std::move(out_);
  }

 private:
  void finding(Finding::Severity severity, std::string reason, std::string message) {
    out_.plan.findings.push_back({severity, std::move(reason), std::move(message)});
  }
  void blocking(std::string reason, std::string message) {
    finding(Finding::Severity::kBlocking, std::move(reason), std::move(message));
  }
  void invalid_spec(const std::string& field, const std::string& message) {
    blocking("InvalidSpec", field + ": " + message);
  }

  bool check_table() {
    const std::string name = parent_.name.display();
    if (!parent_.exists) {
      blocking("TableNotFound", "table " + name + " does not exist");
    } else if (!parent_.migration_phase.empty() && parent_.migration_phase != "Finalized") {
      blocking("MigrationInProgress",
               "a PartitionMigration of " + name + " is in phase " + parent_.migration_phase);
    } else if (parent_.relkind != 'p' || parent_.strategy != "list") {
      blocking("UnsupportedPartitionKey",
               name + " is " +
                   (parent_.relkind != 'p' ? std::string("not a partitioned table")
                                           : "partitioned by " + parent_.strategy) +
                   "; spec.list needs it declared PARTITION BY LIST (" + spec_.list->column + ")");
    } else if (parent_.key_column_count != 1 || parent_.key_column.empty()) {
      blocking("UnsupportedPartitionKey",
               name + " is partitioned by list on " + std::to_string(parent_.key_column_count) +
                   " column(s) or an expression; spec.list needs exactly one plain column");
    } else if (parent_.key_column != spec_.list->column) {
      invalid_spec("spec.list.column", name + " is partitioned by list on " + parent_.key_column +
                                           ", not " + spec_.list->column);
    } else if (!supported_list_key_type(parent_.key_type_name)) {
      blocking("UnsupportedPartitionKey",
               name + " is partitioned on " + parent_.key_column + " of type " +
                   parent_.key_type_name +
                   "; supported list key types are text, character varying, integer, bigint "
                   "and uuid");
    } else {
      return true;
    }
    return false;
  }

  bool check_spec() {
    const size_t before = out_.plan.findings.size();
    if (spec_.has_interval()) {
      const std::string& time_key = spec_.list->time_key;
      const auto type = key_type_from_sql(table_.time_key_type_name);
      if (table_.time_key_type_name.empty()) {
        invalid_spec("spec.timeKey",
                     "column " + time_key + " does not exist in " + parent_.name.display());
      } else if (!type || !is_time_key(*type)) {
        invalid_spec("spec.timeKey", "column " + time_key + " is " + table_.time_key_type_name +
                                         "; a list partition's range key must be timestamptz, "
                                         "timestamp or date");
      } else if (!spec_.interval.unit) {
        invalid_spec("spec.interval", "\"" + spec_.interval.text +
                                          "\" is an integer width; the timeKey needs hourly, "
                                          "daily, weekly, monthly, quarterly or yearly");
      } else if (*type == KeyType::kDate && spec_.interval.unit == TimeUnit::kHour) {
        invalid_spec("spec.interval",
                     "hourly partitions need a timestamp timeKey but " + time_key + " is date");
      }
    }
    std::vector<std::string> keys = {spec_.list->column};
    if (spec_.has_interval()) keys.push_back(spec_.list->time_key);
    check_index_columns(spec_.indexes, parent_, keys, out_.plan.findings);
    return out_.plan.findings.size() == before;
  }

  void plan_parent_indexes() {
    for (const IndexSpec& index : spec_.indexes) {
      const auto observed =
          std::find_if(parent_.indexes.begin(), parent_.indexes.end(),
                       [&](const ObservedParentIndex& i) { return i.name == index.name; });
      if (observed == parent_.indexes.end()) {
        Action action{
            ActionKind::kCreateParentIndex,
            "create index " + index.name + " on " + parent_.name.display() + " (ONLY parent)"};
        action.statements = {ddl_.create_parent_index(index)};
        action.locks = {{parent_.name, LockMode::kShare}};
        out_.plan.actions.push_back(std::move(action));
      } else if (!declared_index_matches(*observed, index)) {
        finding(Finding::Severity::kWarning, "IndexDefinitionMismatch",
                "index " + index.name + " on " + parent_.name.display() +
                    " exists with a different definition than declared; left untouched");
        mismatched_.insert(index.name);
      } else {
        present_.push_back(&index);
      }
    }
  }

  void plan_default() {
    if (const ObservedListPartition* existing = table_.default_partition()) {
      default_name_ = existing->name;
      return;
    }
    if (!spec_.default_enabled) return;
    const QualifiedName name = ddl_.sibling(derived_name(parent_.name.name, "default"));
    default_name_ = name;  // exists by the time the partitions below are attached
    Action action{ActionKind::kCreateDefault, "create DEFAULT partition " + name.display()};
    action.statements = ddl_.create_default(name);
    action.locks = {{parent_.name, LockMode::kShareUpdateExclusive}};
    out_.plan.actions.push_back(std::move(action));
  }

  // The statements that make a new sub-tree complete before it is attached: the declared indexes
  // under their tenant names, then what the range planner would do to an empty sub-tree — its
  // DEFAULT and the partitions from the current one through the premade ones. The tenant is
  // attached with its current partition in place, so none of its writes ever lands in a DEFAULT
  // (where a later move would race them).
  std::vector<std::string> sub_tree_setup(const ListTenant& tenant) const {
    std::vector<std::string> setup;
    ObservedTable sub_tree = sub_tree_table(spec_, table_, tenant.partition);
    const Policy sub_policy = sub_tree_policy(Policy{"", "", 0, spec_}, tenant);
    for (const IndexSpec& index : sub_policy.spec.indexes) {
      setup.push_back(ddl_.create_index(index.name, tenant.partition, index));
      sub_tree.indexes.push_back({index.name, index.columns, index.include, index.unique,
                                  index.method, true, index.where});
    }
    const Plan plan = plan_reconcile(sub_policy.spec, sub_tree, server_, now_);
    for (const Action& action : plan.actions) {
      // An empty sub-tree needs nothing else; anything else waits for its own reconcile.
      if (action.kind != ActionKind::kCreateDefault && action.kind != ActionKind::kCreatePartition)
        continue;
      setup.insert(setup.end(), action.statements.begin(), action.statements.end());
    }
    return setup;
  }

  Action create_action(const ListTenant& tenant, int64_t waiting_rows) const {
    const bool drain = waiting_rows > 0;
    const std::string literal = sql::literal(tenant.value);
    TableDdl::PartitionShape shape;
    shape.bound = "FOR VALUES IN (" + literal + ")";
    shape.rows = sql::identifier(parent_.key_column) + " = " + literal;
    if (spec_.has_interval()) {
      shape.partition_by = "PARTITION BY RANGE (" + sql::identifier(spec_.list->time_key) + ")";
      shape.setup = sub_tree_setup(tenant);
    }
    TableDdl::NewPartition ddl = ddl_.create_partition(
        tenant.partition, shape, drain ? default_name_ : std::optional<QualifiedName>());
    Action action{
        ActionKind::kCreateListPartition,
        "create " + tenant.partition.display() + " for " + literal +
            (spec_.has_interval()
                 ? " (range sub-tree on " + spec_.list->time_key + " with its first partitions)"
                 : "") +
            (drain ? ", moving " + std::to_string(waiting_rows) + " row(s) from DEFAULT" : "")};
    action.statements = std::move(ddl.statements);
    action.moved_rows_statement = ddl.moved_rows_statement;
    action.locks = {{parent_.name, LockMode::kShareUpdateExclusive}};
    if (default_name_) {
      // An insert of this value routed to DEFAULT while the ATTACH holds DEFAULT's lock would,
      // once let through, fail DEFAULT's new constraint. Writes through the parent wait at the
      // parent instead (readers do not) and are routed afresh after the commit: the stall lasts
      // the creation and the move of the value's waiting rows, never an error.
      action.statements.insert(
          action.statements.begin(),
          "LOCK TABLE ONLY " + sql::qualified(parent_.name) + " IN EXCLUSIVE MODE");
      if (action.moved_rows_statement) ++*action.moved_rows_statement;
      action.locks = {{parent_.name, LockMode::kExclusive},
                      {*default_name_, LockMode::kAccessExclusive}};
      // Every write holds the parent's ROW EXCLUSIVE: the step queues behind those younger than
      // lockTimeout, and lockTimeout bounds the wait.
      action.queues_behind_short_transactions = true;
    }
    return action;
  }

  void plan_tenants() {
    for (const std::string& value : source_.values) {
      ListTenant tenant;
      tenant.value = value;
      if (const ObservedListPartition* partition = table_.partition_for(value)) {
        tenant.partition = partition->name;
        tenant.exists = true;
        if (spec_.has_interval()) {
          tenant.sub_tree = partition->partitioned && partition->strategy == "range" &&
                            partition->sub_key_column == spec_.list->time_key;
          if (!tenant.sub_tree) {
            tenant.problem = Finding{Finding::Severity::kWarning, "TenantNotSubPartitioned",
                                     partition->name.display() + " holds " + sql::literal(value) +
                                         " but is not PARTITION BY RANGE (" + spec_.list->time_key +
                                         "); its time partitions are not maintained"};
          }
        }
        out_.tenants.push_back(std::move(tenant));
        continue;
      }
      tenant.partition = ddl_.sibling(tenant_partition_name(parent_.name.name, value));
      const auto waiting = table_.default_rows.find(value);
      const int64_t rows = waiting == table_.default_rows.end() ? 0 : waiting->second;
      if (taken_.count(tenant.partition.name)) {
        tenant.problem =
            Finding{Finding::Severity::kWarning, "PartitionNameTaken",
                    "the partition for " + sql::literal(value) + " would be " +
                        tenant.partition.display() + ", a name another relation already has"};
      } else if (rows > 0 && !spec_.default_drain) {
        tenant.problem = Finding{
            Finding::Severity::kWarning, "RowsInDefault",
            std::to_string(rows) + " row(s) for " + sql::literal(value) +
                " wait in the DEFAULT partition and spec.defaultPartition.drain is false: its "
                "partition cannot be attached until they are moved"};
      } else if (rows > 0 && spec_.has_interval() && !spec_.default_enabled) {
        tenant.problem = Finding{
            Finding::Severity::kWarning, "RowsInDefault",
            std::to_string(rows) + " row(s) for " + sql::literal(value) +
                " wait in the DEFAULT partition; with spec.defaultPartition.enabled false its "
                "sub-tree has no DEFAULT to take them"};
      } else {
        out_.plan.actions.push_back(create_action(tenant, rows));
      }
      out_.tenants.push_back(std::move(tenant));
    }
  }

  // Every partition must have each declared index attached before the parent's is valid.
  // Partitions created by this plan get theirs from ATTACH; a sub-tree builds its own in its
  // reconcile, attached here on a later pass.
  void plan_index_attachments() {
    for (const IndexSpec* index : present_) {
      // Valid: every partition has it attached (ObservedPartitionIndex).
      const auto observed =
          std::find_if(parent_.indexes.begin(), parent_.indexes.end(),
                       [&](const ObservedParentIndex& i) { return i.name == index->name; });
      if (observed != parent_.indexes.end() && observed->valid) continue;
      for (const ObservedListPartition& partition : table_.partitions) {
        const auto attached = std::find_if(
            parent_.partition_indexes.begin(), parent_.partition_indexes.end(),
            [&](const ObservedPartitionIndex& i) {
              return i.partition == partition.name.name && i.parent_index == index->name;
            });
        if (attached != parent_.partition_indexes.end()) continue;
        const QualifiedName child = ddl_.sibling(tenant_index_name(partition.name, index->name));
        const auto existing =
            std::find_if(parent_.partition_indexes.begin(), parent_.partition_indexes.end(),
                         [&](const ObservedPartitionIndex& i) { return i.name == child; });
        const bool usable = existing != parent_.partition_indexes.end() && existing->valid;
        if (!usable && partition.partitioned) continue;  // its sub-tree reconcile builds it
        if (existing == parent_.partition_indexes.end()) {
          Action build{ActionKind::kBuildPartitionIndex, "build index " + child.display() + " on " +
                                                             partition.name.display() +
                                                             " concurrently"};
          build.transactional = false;
          build.statements = {ddl_.build_partition_index(child, partition.name, *index)};
          build.locks = {{partition.name, LockMode::kShareUpdateExclusive}};
          build.provides = {"index " + child.display()};
          out_.plan.actions.push_back(std::move(build));
        } else if (!usable) {
          Action rebuild{ActionKind::kRebuildIndex, "rebuild invalid index " + child.display()};
          rebuild.transactional = false;
          rebuild.statements = {TableDdl::reindex(child)};
          rebuild.locks = {{partition.name, LockMode::kShareUpdateExclusive}};
          rebuild.provides = {"index " + child.display()};
          out_.plan.actions.push_back(std::move(rebuild));
        }
        Action attach{ActionKind::kAttachPartitionIndex,
                      "attach index " + child.display() + " to " + index->name};
        attach.statements = {ddl_.attach_index(index->name, child)};
        attach.locks = {{parent_.name, LockMode::kShareUpdateExclusive}};
        if (!usable) attach.needs = {"index " + child.display()};
        out_.plan.actions.push_back(std::move(attach));
      }
    }
  }

  void report_values_without_source() {
    const std::set<std::string> named(source_.values.begin(), source_.values.end());
    for (const ObservedListPartition& partition : table_.partitions) {
      for (const auto& value : partition.values) {
        if (value && !named.count(*value)) out_.values_without_source.push_back(*value);
      }
    }
    std::sort(out_.values_without_source.begin(), out_.values_without_source.end());
    if (out_.values_without_source.empty()) return;
    std::string shown;
    for (size_t i = 0; i < out_.values_without_source.size() && i < 10; ++i)
      shown += (i ? ", " : "") + sql::literal(out_.values_without_source[i]);
    finding(Finding::Severity::kInfo, "ValuesWithoutSource",
            std::to_string(out_.values_without_source.size()) +
                " value(s) with a partition are no longer named by the source (" + shown +
                (out_.values_without_source.size() > 10 ? ", ..." : "") +
                "); their partitions are kept: partop never drops a value implicitly");
  }

  void figures() {
    LayoutFigures& figures = out_.plan.figures;
    for (const ObservedListPartition& partition : table_.partitions) {
      if (!partition.is_default) ++figures.partition_count;
    }
    for (const auto& [value, rows] : table_.default_rows) figures.default_rows += rows;
    figures.default_rows += table_.default_null_rows;
    for (const auto& index : parent_.indexes) figures.invalid_indexes += index.valid ? 0 : 1;
  }

  const PolicySpec& spec_;
  const ObservedListTable& table_;
  const ObservedTable& parent_;
  const SourceValues& source_;
  const std::set<std::string> taken_;
  const TableDdl ddl_;
  const ObservedServer& server_;
  const TimePoint now_;
  std::optional<QualifiedName> default_name_;
  std::set<std::string> mismatched_;       // declared indexes present with another definition
  std::vector<const IndexSpec*> present_;  // declared indexes present on the parent as declared
  ListPlan out_;
};

}  // namespace

std::string tenant_partition_name(const std::string& table, const std::string& value) {
  constexpr size_t kWordBytes = 24;
  std::string word = value;
  if (!plain_word(value) || value.size() > kWordBytes) {
    word.clear();
    for (const unsigned char c : value.substr(0, kWordBytes)) {
      word += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a')
              : ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? static_cast<char>(c)
                                                                   : '_';
    }
    word += "_" + short_hash(value);  // distinct values stay distinct whatever was replaced
  }
  // The table's name gives way: the value's part is what tells the partitions apart.
  return table.substr(0, kTenantNameBytes - word.size() - 1) + "_" + word;
}

std::string tenant_index_name(const QualifiedName& partition, const std::string& index) {
  return derived_name(partition.name, index);
}

std::vector<std::string> new_tenant_names(const PolicySpec& spec, const ObservedListTable& table,
                                          const SourceValues& source) {
  std::vector<std::string> names;
  if (!spec.list) return names;
  for (const std::string& value : source.values) {
    if (table.partition_for(value) == nullptr)
      names.push_back(tenant_partition_name(spec.table.name, value));
  }
  return names;
}

ListPlan plan_list(const PolicySpec& spec, const ObservedListTable& table,
                   const SourceValues& source, const std::vector<std::string>& taken_names,
                   const ObservedServer& server, TimePoint now) {
  return ListPlanner(spec, table, source, taken_names, server, now).run();
}

ObservedTable sub_tree_table(const PolicySpec& spec, const ObservedListTable& table,
                             const QualifiedName& partition) {
  ObservedTable sub_tree = table.parent;
  sub_tree.name = partition;
  sub_tree.strategy = "range";
  sub_tree.key_column = spec.list->time_key;
  sub_tree.key_type_name = table.time_key_type_name;
  sub_tree.key_type = key_type_from_sql(table.time_key_type_name);
  sub_tree.indexes.clear();
  sub_tree.partition_indexes.clear();
  sub_tree.partitions.clear();
  sub_tree.referencing_foreign_keys.clear();
  sub_tree.migration_phase.clear();
  return sub_tree;
}

Policy sub_tree_policy(const Policy& policy, const ListTenant& tenant) {
  Policy sub_tree = policy;
  PolicySpec& spec = sub_tree.spec;
  spec.table = tenant.partition;
  spec.list.reset();
  for (IndexSpec& index : spec.indexes)
    index.name = tenant_index_name(tenant.partition, index.name);
  return sub_tree;
}

}  // namespace partop
