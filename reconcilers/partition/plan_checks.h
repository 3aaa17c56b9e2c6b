// What makes a table unmanageable, or a policy invalid for it, judged before planning from the
// observed catalog (what the document alone can tell is the parser's). Each problem is appended
// to `findings` as a blocking finding; the functions return true when there was none.
#pragma once

#include <vector>

#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/plan.h"
#include "reconcilers/partition/policy.h"

namespace partop {

// The table exists and is PARTITION BY RANGE on one plain column of a supported type.
bool check_table(const ObservedTable& table, std::vector<Finding>& findings);

// The interval suits the key type; index columns exist; a unique index holds the key.
// Requires check_table() to have passed.
bool check_spec_against_table(const PolicySpec& spec, const ObservedTable& table,
                              std::vector<Finding>& findings);

// Every column an index names exists in `table`, and a unique index holds every partition key
// column in `key_columns` (a list table's sub-trees add their range key).
void check_index_columns(const std::vector<IndexSpec>& indexes, const ObservedTable& table,
                         const std::vector<std::string>& key_columns,
                         std::vector<Finding>& findings);

}  // namespace partop
