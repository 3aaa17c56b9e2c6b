// The list planner: a pure function from (policy spec, observed list-partitioned table, the
// values its source names, the names already taken in its schema) to the list-level actions, in
// dependency order —
//   1. the parent's declared indexes (ON ONLY), so that every partition created after them is
//      attached to them;
//   2. the DEFAULT partition;
//   3. one partition per value that has none, each in its own transaction: with an interval, a
//      sub-tree PARTITION BY RANGE (timeKey) built complete — its indexes, its DEFAULT, then its
//      partitions from the current one through the premade ones — before it is attached; the
//      value's rows waiting in the list DEFAULT move into it in the same transaction;
//   4. index attachments (and, for leaves, concurrent builds) for partitions that lack them —
// and the tenants: each value with its partition, whose range sub-tree is then reconciled like
// any range-partitioned table (sub_tree_policy). It performs no I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reconcilers/list/observed_list.h"
#include "reconcilers/partition/plan.h"
#include "reconcilers/partition/policy.h"

namespace partop {

struct ListTenant {
  std::string value;
  QualifiedName partition;  // the partition holding the value, or the one the plan creates
  bool exists = false;      // a partition holds the value now
  // Reconciled as a range table: the policy has an interval and the partition is PARTITION BY
  // RANGE on the timeKey.
  bool sub_tree = false;
  // Why this tenant's partition cannot be created or maintained; such a tenant is not Ready and
  // never holds back the others.
  std::optional<Finding> problem;
};

struct ListPlan {
  Plan plan;  // list-level actions, findings, and figures (tenants' problems are in `tenants`)
  std::vector<ListTenant> tenants;  // one per source value, in value order
  // Values held by partitions that the source no longer names: reported, never dropped.
  std::vector<std::string> values_without_source;
};

// "<table>_<value>" when the value is a plain lower-case word, else the value made one and
// followed by a hash of it; shortened with a hash to fit 63 bytes (with room for the sub-tree's
// own "_pYYYYMMDD" suffixes, which derived_name shortens again if needed).
std::string tenant_partition_name(const std::string& table, const std::string& value);
// The name a declared index has on a tenant's partition (and in the tenant's sub-tree policy).
std::string tenant_index_name(const QualifiedName& partition, const std::string& index);

// The names plan_list() would give the partitions of values that have none.
std::vector<std::string> new_tenant_names(const PolicySpec& spec, const ObservedListTable& table,
                                          const SourceValues& source);

// `server` and `now` are the range planner's, for the first partitions of a new sub-tree.
ListPlan plan_list(const PolicySpec& spec, const ObservedListTable& table,
                   const SourceValues& source, const std::vector<std::string>& taken_names,
                   const ObservedServer& server, TimePoint now);

// A sub-tree of `table` as read_table() would see it before its partitions and indexes are read:
// the list parent's header (owner, grants, columns, replica identity) under the sub-tree's name,
// PARTITION BY RANGE on spec.list.time_key.
ObservedTable sub_tree_table(const PolicySpec& spec, const ObservedListTable& table,
                             const QualifiedName& partition);

// The range policy a tenant's sub-tree is reconciled with: the list policy's interval, premake,
// DEFAULT, retention, guards and schedule on the tenant's partition, its indexes under their
// tenant_index_name().
Policy sub_tree_policy(const Policy& policy, const ListTenant& tenant);

}  // namespace partop
