// The partition map a PartitionPolicy publishes in its "<policy>-partitions" ConfigMap for
// application routers: the table's partitions in bound order, then DEFAULT, as a JSON array of
//   {"name": "public.events_default", "default": true}
//   {"name": "public.events_archive", "from": "...", "to": "..."}          one partition
//   {"first": "public.events_p20260101", "last": "public.events_p20261231",
//    "from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z", "count": 365,
//    "every": "daily", "names": "events_pYYYYMMDD"}                       a run
// A run stands for `count` (two or more) partitions back to back, each exactly one cell of the
// policy's interval and named as partop names what it creates: the k-th (from 0) spans `from`
// advanced by k intervals to `from` advanced by k + 1, and is named `names` with its lower bound
// written in the placeholder (YYYYMMDD, YYYYMMDD_HH for hourly, N — the decimal bound, "m" for
// minus — for integer keys), in the schema of `first`. So an hourly table kept two years (17,520
// partitions) is one entry; hand-made, off-grid or hash-shortened partitions are listed one by
// one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/key_space.h"

namespace partop::controller {

// A ConfigMap holds at most 1 MiB; the map's data stays under this, leaving room for the rest.
inline constexpr size_t kMaxPartitionMapBytes = 900 * 1024;

// What runs are recognised by: the policy's grid, its interval as written, and the base of the
// names partop gives partitions.
struct PartitionMapLayout {
  PartitionGrid grid;
  std::string interval;
  std::string name_base;
};

// `layout` nullopt: every partition is listed on its own.
nlohmann::json partition_map_entries(const std::vector<ObservedPartition>& partitions,
                                     KeyType key_type,
                                     const std::optional<PartitionMapLayout>& layout);

}  // namespace partop::controller
