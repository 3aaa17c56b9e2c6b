// Reads what the planner needs from the catalog through a DatabaseSession: read-only, a fixed
// handful of queries per table whatever its partition count.
#pragma once

#include <optional>

#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/policy.h"

namespace partop {

// Observes `spec.table`. When the table is usable (range-partitioned on one supported column),
// also counts DEFAULT rows per cell of `spec.interval` and reads the maximum key for integer keys.
ObservedTable read_table(DatabaseSession& session, const PolicySpec& spec);

// Recovery state, database size, and the maintenance window's UTC offset. Throws DatabaseError
// with sqlstate 22023 when the window's time zone is unknown to the server.
ObservedServer read_server(DatabaseSession& session, const PolicySpec& spec);

// The partitions of `table` with their bounds, straight from relpartbound.
std::vector<ObservedPartition> read_partitions(DatabaseSession& session, const QualifiedName& table,
                                               KeyType key_type);

// The indexes of the table whose oid is `oid` (into table.indexes) and of its partitions, with
// the parent index each is attached to (into table.partition_indexes).
void read_indexes(DatabaseSession& session, const std::string& oid, ObservedTable& table);

}  // namespace partop
