#include "reconcilers/partition/layout.h"

#include <algorithm>
#include <cstdio>

namespace partop {
namespace {

constexpr size_t kMaxIdentifierBytes = 63;

uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace

std::string short_hash(std::string_view text) {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(text)));
  return std::string(hash, 8);
}

std::string derived_name(const std::string& base, const std::string& suffix) {
  const std::string full = base + "_" + suffix;
  if (full.size() <= kMaxIdentifierBytes) return full;
  const std::string hash = short_hash(full);
  const std::string tail = "_" + hash + "_" + suffix;
  if (tail.size() >= kMaxIdentifierBytes)
    return full.substr(0, kMaxIdentifierBytes - 9) + "_" + hash;
  return base.substr(0, kMaxIdentifierBytes - tail.size()) + tail;
}

std::string partition_name(const std::string& table, const PartitionGrid& grid, KeyValue lower) {
  return derived_name(table, "p" + partition_suffix(grid, lower));
}

std::vector<const ObservedPartition*> ranged_partitions(const ObservedTable& table) {
  std::vector<const ObservedPartition*> out;
  for (const auto& partition : table.partitions) {
    if (!partition.is_default) out.push_back(&partition);
  }
  // The catalog reader sorts them already; a table built otherwise is sorted here.
  const auto by_lower = [](const ObservedPartition* a, const ObservedPartition* b) {
    return a->lower < b->lower;
  };
  if (!std::is_sorted(out.begin(), out.end(), by_lower))
    std::stable_sort(out.begin(), out.end(), by_lower);
  return out;
}

std::optional<KeyValue> covered_run_end(const ObservedTable& table, KeyValue value) {
  std::optional<KeyValue> end;
  for (const ObservedPartition* partition : ranged_partitions(table)) {  // by lower bound
    const KeyValue probe = end.value_or(value);
    if (partition->lower <= probe && probe < partition->upper) end = partition->upper;
  }
  return end;
}

CellCoverage cell_coverage(const std::vector<const ObservedPartition*>& ranged, KeyValue lower,
                           KeyValue upper) {
  const auto first_ending_after = std::partition_point(
      ranged.begin(), ranged.end(),
      [&](const ObservedPartition* partition) { return partition->upper <= lower; });
  if (first_ending_after == ranged.end() || (*first_ending_after)->lower >= upper)
    return {CellCoverage::Kind::kFree};
  const ObservedPartition* partition = *first_ending_after;
  if (partition->lower <= lower && upper <= partition->upper) return {CellCoverage::Kind::kCovered};
  return {CellCoverage::Kind::kConflict, partition};
}

LayoutFigures layout_figures(const ObservedTable& table, KeyValue anchor) {
  LayoutFigures figures;
  figures.default_rows = table.default_rows;
  for (const ObservedPartition* partition : ranged_partitions(table)) {
    ++figures.partition_count;
    if (!figures.oldest_lower || partition->lower < *figures.oldest_lower)
      figures.oldest_lower = partition->lower;
    if (!figures.newest_upper || partition->upper > *figures.newest_upper)
      figures.newest_upper = partition->upper;
  }
  figures.buffered_until = covered_run_end(table, anchor);
  for (const auto& index : table.partition_indexes) {
    if (!index.valid) ++figures.invalid_indexes;
  }
  return figures;
}

std::optional<KeyValue> retention_cutoff(const PolicySpec& spec, const ObservedTable& table,
                                         KeyValue now) {
  if (!spec.retention) return std::nullopt;
  const RetentionSpec& keep = *spec.retention;
  switch (keep.unit) {
    case RetentionSpec::Unit::kHours:
      return now - keep.amount * 3600;
    case RetentionSpec::Unit::kDays:
      return now - keep.amount * 86400;
    case RetentionSpec::Unit::kWeeks:
      return now - keep.amount * 7 * 86400;
    case RetentionSpec::Unit::kMonths:
      return shift_months(now, -keep.amount);
    case RetentionSpec::Unit::kYears:
      return shift_months(now, -12 * keep.amount);
    case RetentionSpec::Unit::kKeys:
      if (!table.max_key) return std::nullopt;
      return *table.max_key - keep.amount;
  }
  return std::nullopt;
}

}  // namespace partop
