#include "operator/controller/partition_map.h"

namespace partop::controller {
namespace {

using nlohmann::json;

std::string placeholder(const PartitionGrid& grid) {
  if (!grid.is_time()) return "N";
  return grid.unit() == TimeUnit::kHour ? "YYYYMMDD_HH" : "YYYYMMDD";
}

// True when `partition` is exactly the grid cell at its lower bound, named as partop names it
// (no hash-shortened name: the run's name pattern would not give it).
bool is_named_cell(const ObservedPartition& partition, const PartitionMapLayout& layout) {
  if (partition.lower == kUnboundedBelow || partition.upper == kUnboundedAbove) return false;
  if (layout.grid.floor(partition.lower) != partition.lower ||
      layout.grid.next(partition.lower) != partition.upper) {
    return false;
  }
  return partition.name.name ==
         layout.name_base + "_p" + partition_suffix(layout.grid, partition.lower);
}

}  // namespace

json partition_map_entries(const std::vector<ObservedPartition>& partitions, KeyType key_type,
                           const std::optional<PartitionMapLayout>& layout) {
  json entries = json::array();
  std::vector<const ObservedPartition*> run;  // consecutive named cells not yet written
  const auto single = [&](const ObservedPartition& partition) {
    entries.push_back({{"name", partition.name.display()},
                       {"from", key_display(key_type, partition.lower)},
                       {"to", key_display(key_type, partition.upper)}});
  };
  const auto flush = [&] {
    if (run.size() == 1) single(*run.front());
    if (run.size() >= 2) {
      entries.push_back({{"first", run.front()->name.display()},
                         {"last", run.back()->name.display()},
                         {"from", key_display(key_type, run.front()->lower)},
                         {"to", key_display(key_type, run.back()->upper)},
                         {"count", run.size()},
                         {"every", layout->interval},
                         {"names", layout->name_base + "_p" + placeholder(layout->grid)}});
    }
    run.clear();
  };
  for (const auto& partition : partitions) {
    if (partition.is_default) continue;
    if (!layout || !is_named_cell(partition, *layout)) {
      flush();
      single(partition);
      continue;
    }
    if (!run.empty() &&
        (run.back()->upper != partition.lower || run.back()->name.schema != partition.name.schema))
      flush();
    run.push_back(&partition);
  }
  flush();
  for (const auto& partition : partitions) {
    if (partition.is_default)
      entries.push_back({{"name", partition.name.display()}, {"default", true}});
  }
  return entries;
}

}  // namespace partop::controller
