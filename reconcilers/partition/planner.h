// The planner: a pure function from (policy spec, observed catalog state, now) to the ordered
// actions that move the table towards the spec, plus the findings that explain what it will not
// do and why. It performs no I/O; `partop plan` prints its output and `partop apply` executes it.
//
// Its parts: plan_checks (is the table manageable, is the spec valid for it), layout (coverage,
// figures, retention cutoff, names), ddl (the SQL text of each step); planner.cc holds the steps
// themselves (parent indexes, DEFAULT, cells, partition indexes, retention) and their order.
#pragma once

#include "reconcilers/partition/catalog.h"
#include "reconcilers/partition/layout.h"
#include "reconcilers/partition/plan.h"
#include "reconcilers/partition/policy.h"

namespace partop {

Plan plan_reconcile(const PolicySpec& spec, const ObservedTable& table,
                    const ObservedServer& server, TimePoint now);

}  // namespace partop
