// How a plan's new partitions are packed into transactions. Creating a partition is cheap, but
// each transaction's commit and the parent's relcache rebuild at the next statement are not:
// provisioning a year of daily partitions one per transaction took twice pg_partman's time,
// which creates them all in one. partop packs them, under bounds:
//   - the first new partition of the plan (the cell holding now, when it is missing) commits
//     alone, so that the most urgent cell never waits for others;
//   - then up to kPartitionsPerTransaction per transaction. Such a transaction holds SHARE UPDATE
//     EXCLUSIVE on the parent (no reader or writer waits for it) and ACCESS EXCLUSIVE on the new
//     tables (nobody sees them yet) and on the DEFAULT partition, if any: each ATTACH checks
//     DEFAULT for rows of its bounds, so readers of DEFAULT wait for the whole transaction —
//     a few milliseconds per partition while DEFAULT is empty;
//   - with rows in DEFAULT nothing is packed: each ATTACH scans DEFAULT, and holding it across
//     several scans is what the lock guard exists to prevent.
// A table with no partition at all (nor DEFAULT) is the exception to the first rule: no row can
// be written to it yet, so no cell is more urgent than another, and its first objects — the
// parent indexes, DEFAULT and up to kPartitionsPerTransaction partitions, as the plan orders them
// — commit in one transaction (nothing can be written to the table until it commits, as before
// it began).
// A drain is never packed (it moves rows). A pure function of the planned actions and the
// observed table, applied to the plan that `plan` prints and `apply` runs.
#pragma once

#include <cstdint>
#include <vector>

#include "reconcilers/partition/action.h"
#include "reconcilers/partition/catalog.h"

namespace partop {

inline constexpr size_t kPartitionsPerTransaction = 16;

// `actions` with runs of consecutive create-partition actions (and, on a table without
// partitions, its first objects) packed as above; an action packing several keeps them as its
// `members`, takes each member's locks (the strongest per relation) and provides what they do.
std::vector<Action> pack_new_partitions(std::vector<Action> actions, const ObservedTable& table);

}  // namespace partop
