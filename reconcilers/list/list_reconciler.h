// Reconciles a PartitionPolicy with spec.list. In one reconcile:
//   1. the list level (list_planner): the parent's indexes, its DEFAULT, a partition for each
//      value that has none, in dependency order, under the same guards as range partitions;
//   2. each value's range sub-tree: all of them read at once (read_sub_trees) and planned; those
//      with work (or a problem, or rows in their DEFAULT) reconciled one by one as range tables
//      of their own (PartitionReconciler with sub_tree_policy): one tenant's failure — a lock it
//      could not get, a conflicting partition, bad rows in its DEFAULT — is that tenant's alone,
//      and the others go on;
//   3. the list level again when anything changed: indexes the sub-trees built are attached.
// Ready when the list level matches the policy and every tenant is Ready; status counts the
// tenants, lists the first that are not Ready and why, and reports the worst buffer among them.
#pragma once

#include "reconcilers/list/list_catalog.h"
#include "reconcilers/list/list_planner.h"
#include "reconcilers/list/sub_tree_catalog.h"
#include "reconcilers/partition/reconciler.h"

namespace partop {

// What observation and planning of the list level produced.
struct PlannedList {
  ObservedServer server;
  ObservedListTable table;
  SourceValues source;
  ListPlan plan;
};

class ListPartitionReconciler {
 public:
  explicit ListPartitionReconciler(const Clock& clock, StopRequested stop_requested = {})
      : clock_(clock), stop_requested_(std::move(stop_requested)) {}

  // Reads the list level and its source, and plans it. Throws DatabaseError when the database
  // cannot be read.
  PlannedList observe_and_plan(DatabaseSession& session, const Policy& policy) const;

  // One full reconcile; database failures become an outcome, never an exception.
  Outcome reconcile(DatabaseSession& session, const Policy& policy, ReconcileMode mode) const;

 private:
  // The outcome of a sub-tree whose bulk observation (read_sub_trees) the range planner finds
  // with nothing to do, nor any problem, and whose DEFAULT is empty: Ready, without a reconcile
  // of its own (which reads the same catalog in a dozen statements). nullopt: reconcile it.
  std::optional<Outcome> quiet_sub_tree(const Policy& sub_policy,
                                        const std::map<std::string, ObservedSubTree>& observed,
                                        const ObservedServer& server) const;

  const Clock& clock_;
  StopRequested stop_requested_;
};

// A PartitionPolicy's reconcile, list or range as its spec says: what commands and the operator
// call.
Outcome reconcile_policy(DatabaseSession& session, const Policy& policy, ReconcileMode mode,
                         const Clock& clock, StopRequested stop_requested = {});

}  // namespace partop
