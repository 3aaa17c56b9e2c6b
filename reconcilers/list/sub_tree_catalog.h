// The range sub-trees of a list-partitioned table as the range planner sees them, read for all of
// them in a fixed handful of queries whatever their number: each one's partitions and bounds,
// its indexes and its partitions' indexes, and whether its DEFAULT holds rows. A sub-tree's
// header (owner, grants, columns) is the list parent's (sub_tree_table), which is what partop
// gives the sub-trees it creates; the range planner needs it only to write DDL, and a sub-tree
// that needs DDL is reconciled on its own, read again in full under its lock.
#pragma once

#include <map>
#include <string>

#include "reconcilers/list/observed_list.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/policy.h"

namespace partop {

struct ObservedSubTree {
  ObservedTable table;
  bool default_has_rows = false;  // its DEFAULT holds rows: what they need is the full reader's
};

// The sub-trees of `table` that are PARTITION BY RANGE on spec.list.time_key, by "schema.name".
std::map<std::string, ObservedSubTree> read_sub_trees(DatabaseSession& session,
                                                      const PolicySpec& spec,
                                                      const ObservedListTable& table);

}  // namespace partop
