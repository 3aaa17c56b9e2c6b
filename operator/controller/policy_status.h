// Turns an engine Outcome into a PartitionPolicy .status object. Pure: the previous status and
// the current time come in as arguments.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "reconcilers/partition/outcome.h"

namespace partop::controller {

// Conditions in the metav1.Condition shape. lastTransitionTime is carried over from `previous`
// for a condition whose status did not change, and set to `now` otherwise; every condition gets
// `generation` as its observedGeneration.
nlohmann::json merge_conditions(const nlohmann::json& previous,
                                const std::vector<Condition>& current, int64_t generation,
                                const std::string& now);

// How many actions taken or pending the status lists; the rest is counted
// (actionsTakenCount, actionsPendingCount) and `partop plan` prints them all. A plan of thousands
// of steps must not make the object approach the API server's size limit.
inline constexpr size_t kStatusActionsListed = 10;

// The whole status. `previous` is the object's current .status (or null).
nlohmann::json build_status(const nlohmann::json& previous, const Outcome& outcome,
                            int64_t generation, const std::string& now);

// True when two statuses differ in anything but lastReconcileTime (no need to write).
bool status_changed(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace partop::controller
