// The partition map's entries: runs of cells partop named, lone partitions, DEFAULT last, and a
// size that does not grow with a regular table's length.
#include "operator/controller/partition_map.h"

#include <doctest/doctest.h>

#include "reconcilers/partition/layout.h"

namespace partop::controller {
namespace {

using nlohmann::json;

ObservedPartition partition(const std::string& name, KeyValue lower, KeyValue upper) {
  return {{"public", name}, false, lower, upper};
}

// `count` cells of `grid` from `lower`, named as partop names them.
void add_cells(std::vector<ObservedPartition>& out, const PartitionGrid& grid, KeyValue lower,
               int count) {
  for (int i = 0; i < count; ++i, lower = grid.next(lower))
    out.push_back(partition(partition_name("events", grid, lower), lower, grid.next(lower)));
}

}  // namespace

TEST_CASE("partition map: runs of named cells are one entry, the rest one entry each") {
  const PartitionGrid daily = PartitionGrid::time(TimeUnit::kDay);
  const KeyValue jan1 = epoch_seconds(2026, 1, 1);
  std::vector<ObservedPartition> partitions;
  partitions.push_back(partition("events_archive", epoch_seconds(2025, 1, 1), jan1));
  add_cells(partitions, daily, jan1, 31);                      // January
  add_cells(partitions, daily, epoch_seconds(2026, 3, 1), 1);  // a lone cell after a gap
  add_cells(partitions, daily, epoch_seconds(2026, 4, 1), 2);  // a run of two
  partitions.push_back({{"public", "events_default"}, true, 0, 0});

  const json entries = partition_map_entries(partitions, KeyType::kTimestampTz,
                                             PartitionMapLayout{daily, "daily", "events"});
  REQUIRE(entries.size() == 5);
  CHECK(entries[0] == json{{"name", "public.events_archive"},
                           {"from", "2025-01-01T00:00:00Z"},
                           {"to", "2026-01-01T00:00:00Z"}});
  CHECK(entries[1] == json{{"first", "public.events_p20260101"},
                           {"last", "public.events_p20260131"},
                           {"from", "2026-01-01T00:00:00Z"},
                           {"to", "2026-02-01T00:00:00Z"},
                           {"count", 31},
                           {"every", "daily"},
                           {"names", "events_pYYYYMMDD"}});
  CHECK(entries[2]["name"] == "public.events_p20260301");
  CHECK(entries[3]["count"] == 2);
  CHECK(entries[4] == json{{"name", "public.events_default"}, {"default", true}});

  // Without the policy's layout every partition is listed.
  CHECK(partition_map_entries(partitions, KeyType::kTimestampTz, std::nullopt).size() == 36);
}

TEST_CASE("partition map: an hourly table kept two years and more is a few hundred bytes") {
  const PartitionGrid hourly = PartitionGrid::time(TimeUnit::kHour);
  std::vector<ObservedPartition> partitions;
  add_cells(partitions, hourly, epoch_seconds(2024, 1, 1), 20000);
  const json entries = partition_map_entries(partitions, KeyType::kTimestampTz,
                                             PartitionMapLayout{hourly, "hourly", "events"});
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["count"] == 20000);
  CHECK(entries[0]["names"] == "events_pYYYYMMDD_HH");
  CHECK(entries[0]["last"] == "public." + partitions.back().name.name);
  CHECK(entries.dump().size() < 400);
}

TEST_CASE("partition map: a partition with other bounds or another name breaks a run") {
  const PartitionGrid grid = PartitionGrid::integer(1000);
  std::vector<ObservedPartition> partitions;
  add_cells(partitions, grid, 0, 3);
  partitions.push_back(partition("events_p3000", 3000, 5000));  // two cells wide
  partitions.push_back(partition("renamed", 5000, 6000));       // a cell, not partop's name
  add_cells(partitions, grid, 6000, 2);
  const json entries = partition_map_entries(partitions, KeyType::kBigint,
                                             PartitionMapLayout{grid, "1000", "events"});
  REQUIRE(entries.size() == 4);
  CHECK(entries[0]["count"] == 3);
  CHECK(entries[0]["names"] == "events_pN");
  CHECK(entries[1]["name"] == "public.events_p3000");
  CHECK(entries[2]["name"] == "public.renamed");
  CHECK(entries[3]["from"] == "6000");
}

}  // namespace partop::controller
