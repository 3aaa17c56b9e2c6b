// Reads what the planner needs from the catalog through a DatabaseSession: read-only, a fixed
// handful of queries per table whatever its partition count.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/guards.h"
#include "reconcilers/partition/policy.h"

namespace partop {

// Observes `spec.table`. When the table is usable (range-partitioned on one supported column),
// also counts DEFAULT rows per cell of `spec.interval` and reads the maximum key for integer keys.
// Two round trips at most (query_batch): the catalog, then the table's rows the counts need.
ObservedTable read_table(DatabaseSession& session, const PolicySpec& spec);

// What a reconcile of a policy reads: the server (read_server), the table (read_table) and the
// standby furthest behind, in the same two round trips as read_table alone.
struct CatalogObservation {
  ObservedServer server;
  ObservedTable table;
  std::optional<ReplicationLag> worst_lag;  // none on a standby or without standbys
};
CatalogObservation observe_catalog(DatabaseSession& session, const PolicySpec& spec);

// Recovery state, database size (with a storage guard only; 0 otherwise), and the maintenance
// window's UTC offset. Throws DatabaseError
// with sqlstate 22023 when the window's time zone is unknown to the server.
ObservedServer read_server(DatabaseSession& session, const PolicySpec& spec);

// The partitions of `table` with their bounds, straight from relpartbound.
std::vector<ObservedPartition> read_partitions(DatabaseSession& session, const QualifiedName& table,
                                               KeyType key_type);

// The indexes of the table whose oid is `oid` (into table.indexes) and of its partitions, with
// the parent index each is attached to (into table.partition_indexes).
void read_indexes(DatabaseSession& session, const std::string& oid, ObservedTable& table);

// Bulk forms, for many partitioned tables in a fixed number of queries: `parents` is an SQL
// condition on a table's oid written with $1, the one parameter, which is `param` — "= $1::oid",
// or "IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::oid)" for the partitions of a
// table. Results are keyed by each parent's "schema.name".
struct ParentIndexes {
  std::vector<ObservedParentIndex> indexes;
  std::vector<ObservedPartitionIndex> partition_indexes;
};
std::map<std::string, ParentIndexes> read_indexes_of(DatabaseSession& session,
                                                     const std::string& parents,
                                                     const std::string& param);
std::map<std::string, std::vector<ObservedPartition>> read_partitions_of(DatabaseSession& session,
                                                                         const std::string& parents,
                                                                         const std::string& param,
                                                                         KeyType key_type);

}  // namespace partop
