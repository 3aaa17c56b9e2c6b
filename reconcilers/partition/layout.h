// The geometry of a table's partition layout, read off the observed catalog: which grid cells are
// covered, how far the unbroken run of partitions reaches, the figures for status, where
// retention cuts, and the names partop gives what it creates. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/key_space.h"
#include "reconcilers/partition/plan.h"
#include "reconcilers/partition/policy.h"

namespace partop {

// Name of the partition starting at `lower`: "<table>_p<suffix>", shortened with a hash when it
// would exceed PostgreSQL's 63-byte identifier limit.
std::string partition_name(const std::string& table, const PartitionGrid& grid, KeyValue lower);
// "<base>_<suffix>" shortened the same way; used for child indexes and the DEFAULT partition.
std::string derived_name(const std::string& base, const std::string& suffix);
// Eight hex digits of a 64-bit FNV-1a hash of `text`: a short, stable tag for shortened names.
std::string short_hash(std::string_view text);

// The table's range partitions (DEFAULT left out), by lower bound.
std::vector<const ObservedPartition*> ranged_partitions(const ObservedTable& table);

// End of the unbroken run of partitions that starts with the one containing `value`.
std::optional<KeyValue> covered_run_end(const ObservedTable& table, KeyValue value);

// How the existing partitions relate to the cell [lower, upper).
struct CellCoverage {
  enum class Kind { kCovered, kFree, kConflict };
  Kind kind;
  const ObservedPartition* conflicting = nullptr;  // for kConflict: the first overlapping one
};
// `ranged`: ranged_partitions() of the table. PostgreSQL keeps range partitions from
// overlapping, so by lower bound they are by upper bound too: the first one ending after `lower`
// is found by bisection (a plan examines every cell of a table of thousands of partitions).
CellCoverage cell_coverage(const std::vector<const ObservedPartition*>& ranged, KeyValue lower,
                           KeyValue upper);

// Figures for status and metrics; `anchor` is the cell holding now (time keys) or the maximum
// key (integer keys).
LayoutFigures layout_figures(const ObservedTable& table, KeyValue anchor);

// Partitions whose upper bound is at or below the cutoff are expired. Time keys count calendar
// units back from `now` (epoch seconds); integer keys count key values back from the maximum
// key. nullopt: no retention, or an integer table with no rows yet.
std::optional<KeyValue> retention_cutoff(const PolicySpec& spec, const ObservedTable& table,
                                         KeyValue now);

}  // namespace partop
