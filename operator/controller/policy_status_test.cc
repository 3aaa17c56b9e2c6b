#include "operator/controller/policy_status.h"

#include <doctest/doctest.h>

namespace partop::controller {

using nlohmann::json;

TEST_CASE("lastTransitionTime changes only when a condition's status flips") {
  const json previous = json::array(
      {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "2026-01-01T00:00:00Z"}},
       {{"type", "Stalled"}, {"status", "False"}, {"lastTransitionTime", "2026-01-01T00:00:00Z"}}});
  const std::vector<Condition> current = {{"Ready", "True", "Reconciled", "ok"},
                                          {"Stalled", "True", "InvalidSpec", "bad"},
                                          {"IndexesValid", "True", "AllValid", ""}};
  const json merged = merge_conditions(previous, current, 7, "2026-02-02T00:00:00Z");
  REQUIRE(merged.size() == 3);
  CHECK(merged[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z");  // unchanged status
  CHECK(merged[1]["lastTransitionTime"] == "2026-02-02T00:00:00Z");  // flipped
  CHECK(merged[2]["lastTransitionTime"] == "2026-02-02T00:00:00Z");  // new
  for (const auto& condition : merged) CHECK(condition["observedGeneration"] == 7);
}

TEST_CASE("status is rewritten only when more than the reconcile time changed") {
  Outcome outcome;
  outcome.conditions = {{"Ready", "True", "Reconciled", "ok"}};
  outcome.figures.partition_count = 4;
  const json first = build_status(nullptr, outcome, 1, "2026-02-02T00:00:00Z");
  CHECK(first["observedGeneration"] == 1);
  CHECK(first["partitionCount"] == 4);
  CHECK(first["bufferedUntil"].is_null());
  const json again = build_status(first, outcome, 1, "2026-02-02T00:10:00Z");
  CHECK_FALSE(status_changed(first, again));
  outcome.figures.partition_count = 5;
  CHECK(status_changed(first, build_status(first, outcome, 1, "2026-02-02T00:20:00Z")));
  CHECK(status_changed(first, build_status(first, outcome, 2, "2026-02-02T00:20:00Z")));
  CHECK(status_changed(nullptr, first));
}

TEST_CASE("status lists the first actions and counts them all") {
  Outcome outcome;
  outcome.conditions = {{"Ready", "False", "Suspended", "suspended"}};
  for (int i = 0; i < 6879; ++i)
    outcome.actions_pending.push_back("create partition " + std::to_string(i));
  outcome.actions_taken = {"create DEFAULT"};
  const json status = build_status(nullptr, outcome, 1, "2026-02-02T00:00:00Z");
  REQUIRE(status["actionsPending"].size() == kStatusActionsListed + 1);
  CHECK(status["actionsPending"][0] == "create partition 0");
  CHECK(status["actionsPending"].back() == "... and 6869 more (partop plan lists them all)");
  CHECK(status["actionsPendingCount"] == 6879);
  CHECK(status["actionsTaken"] == json::array({"create DEFAULT"}));
  CHECK(status["actionsTakenCount"] == 1);
  CHECK(status.dump().size() < 2000);
}

TEST_CASE("a reconcile that applies nothing keeps the last actions taken and changes no status") {
  Outcome created;
  created.conditions = {{"Ready", "True", "Reconciled", "match"}};
  created.actions_taken = {"create DEFAULT", "create partition p1"};
  const json first = build_status(nullptr, created, 1, "2026-02-02T00:00:00Z");
  Outcome noop;
  noop.conditions = {{"Ready", "True", "Reconciled", "match"}};
  const json second = build_status(first, noop, 1, "2026-02-02T00:10:00Z");
  CHECK(second["actionsTaken"] == first["actionsTaken"]);
  CHECK(second["actionsTakenCount"] == 2);
  CHECK_FALSE(status_changed(first, second));
}

}  // namespace partop::controller
