// The backfill planner: a pure function from (backfill, observed catalog and control rows, now)
// to the next steps of the partition being rebuilt, plus findings and progress. It touches no
// database; backfill_reconciler applies the steps under the executor's guards and calls it
// again, so every step is planned from the database's truth.
//
// One partition at a time, in spec.order: start (shadow, write-counting triggers, control row)
// -> fill slices -> the live partition's indexes on the shadow -> finish (foreign keys, ANALYZE)
// -> swap. A partition the application wrote into since its start is set aside and rebuilt at
// the end of the pass.
#pragma once

#include <vector>

#include "reconcilers/backfill/backfill.h"
#include "reconcilers/backfill/backfill_catalog.h"
#include "reconcilers/partition/clock.h"
#include "reconcilers/partition/outcome.h"
#include "reconcilers/partition/plan.h"

namespace partop {

struct BackfillPlan {
  std::vector<Finding> findings;
  std::vector<Action> actions;
  BackfillProgress progress;
  bool complete = false;  // every partition of the range is swapped
  bool filling = false;   // the plan holds a fill slice: the reconciler may run more
  bool blocked() const;
};

// Heap of the live partition per fill slice when spec.slicesPerPartition is unset: a slice's
// INSERT ... SELECT then moves about this much, seconds of work, and a small partition is one
// slice (each slice reads the source once; an unindexed source is scanned whole every time).
inline constexpr int64_t kAutoSliceBytes = 64LL * 1024 * 1024;

// The number of transactions a partition whose heap is `live_heap_bytes` is filled in.
int fill_slices(const BackfillSpec& spec, int64_t live_heap_bytes);

BackfillPlan plan_backfill(const Backfill& backfill, const ObservedBackfill& observed,
                           TimePoint now);

}  // namespace partop
