#include "reconcilers/partition/layout.h"

#include <doctest/doctest.h>

namespace partop {
namespace {

ObservedPartition ranged(const std::string& name, KeyValue lower, KeyValue upper) {
  return ObservedPartition{{"public", name}, false, lower, upper};
}

}  // namespace

TEST_CASE("cell coverage: covered, free or conflicting, whatever the catalog's order") {
  ObservedTable table;
  table.partitions = {ranged("c", 30, 40),
                      ranged("minvalue", kUnboundedBelow, 0),
                      ranged("a", 10, 20),
                      ranged("wide", 40, 60),
                      ObservedPartition{{"public", "t_default"}, true, 0, 0},
                      ranged("maxvalue", 100, kUnboundedAbove)};
  const std::vector<const ObservedPartition*> sorted = ranged_partitions(table);
  REQUIRE(sorted.size() == 5);
  CHECK(sorted.front()->name.name == "minvalue");
  CHECK(sorted.back()->name.name == "maxvalue");

  CHECK(cell_coverage(sorted, -10, 0).kind == CellCoverage::Kind::kCovered);
  CHECK(cell_coverage(sorted, 0, 10).kind == CellCoverage::Kind::kFree);
  CHECK(cell_coverage(sorted, 10, 20).kind == CellCoverage::Kind::kCovered);
  CHECK(cell_coverage(sorted, 20, 30).kind == CellCoverage::Kind::kFree);
  CHECK(cell_coverage(sorted, 40, 50).kind == CellCoverage::Kind::kCovered);
  CHECK(cell_coverage(sorted, 90, 100).kind == CellCoverage::Kind::kFree);
  CHECK(cell_coverage(sorted, 1000, 1010).kind == CellCoverage::Kind::kCovered);
  // A cell that overlaps a partition without lying inside it: the first one it overlaps.
  const CellCoverage straddling = cell_coverage(sorted, 35, 45);
  CHECK(straddling.kind == CellCoverage::Kind::kConflict);
  REQUIRE(straddling.conflicting != nullptr);
  CHECK(straddling.conflicting->name.name == "c");
  CHECK(cell_coverage(sorted, 15, 35).conflicting->name.name == "a");
  CHECK(cell_coverage({}, 0, 10).kind == CellCoverage::Kind::kFree);
}

}  // namespace partop
