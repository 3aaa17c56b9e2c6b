// Reads what the list planner needs: the list-partitioned table (its partitions with their
// values, its indexes, the rows waiting in its DEFAULT per value), the values its source names,
// and which names are taken. Read-only.
#pragma once

#include <string>
#include <vector>

#include "reconcilers/list/observed_list.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/policy.h"

namespace partop {

// Reads spec.table. When the table is list-partitioned on spec.list.column with a supported key
// type, also its partitions, indexes, DEFAULT rows and timeKey type.
ObservedListTable read_list_table(DatabaseSession& session, const PolicySpec& spec);

// Reads spec.list.values or spec.list.valuesFrom, cast to the table's key type (which
// supported_list_key_type() must accept).
SourceValues read_source_values(DatabaseSession& session, const ListSpec& list,
                                const std::string& key_type_name);

// Which of `names` are taken by a relation in `schema`.
std::vector<std::string> read_taken_names(DatabaseSession& session, const std::string& schema,
                                          const std::vector<std::string>& names);

}  // namespace partop
