#include "operator/controller/policy_status.h"

namespace partop::controller {

using nlohmann::json;

json merge_conditions(const json& previous, const std::vector<Condition>& current,
                      int64_t generation, const std::string& now) {
  json out = json::array();
  for (const Condition& condition : current) {
    std::string transition = now;
    if (previous.is_array()) {
      for (const json& old : previous) {
        if (old.value("type", "") == condition.type &&
            old.value("status", "") == condition.status) {
          transition = old.value("lastTransitionTime", now);
        }
      }
    }
    out.push_back({{"type", condition.type},
                   {"status", condition.status},
                   {"reason", condition.reason},
                   // An empty message does not survive the 1.20 API server's validation.
                   {"message", condition.message.empty() ? condition.reason : condition.message},
                   {"observedGeneration", generation},
                   {"lastTransitionTime", transition}});
  }
  return out;
}

namespace {

// The first kStatusActionsListed of `actions`, and a line saying how many more there are.
json listed_actions(const std::vector<std::string>& actions) {
  json out = json::array();
  for (size_t i = 0; i < actions.size() && i < kStatusActionsListed; ++i) out.push_back(actions[i]);
  if (actions.size() > kStatusActionsListed) {
    out.push_back("... and " + std::to_string(actions.size() - kStatusActionsListed) +
                  " more (partop plan lists them all)");
  }
  return out;
}

}  // namespace

json build_status(const json& previous, const Outcome& outcome, int64_t generation,
                  const std::string& now) {
  const json engine = outcome.to_json();
  json status = {
      {"observedGeneration", generation},
      {"conditions",
       merge_conditions(previous.is_object() ? previous.value("conditions", json()) : json(),
                        outcome.conditions, generation, now)},
      {"partitionCount", engine["partitionCount"]},
      {"defaultRows", engine["defaultRows"]},
      {"invalidIndexes", engine["invalidIndexes"]},
      {"rowsDrained", engine["rowsDrained"]},
      {"actionsTaken", listed_actions(outcome.actions_taken)},
      {"actionsTakenCount", outcome.actions_taken.size()},
      {"actionsPending", listed_actions(outcome.actions_pending)},
      {"actionsPendingCount", outcome.actions_pending.size()},
      {"lastReconcileTime", now}};
  // The actions are those of the last reconcile that applied any: a reconcile that finds nothing
  // to do leaves them (and so writes no status at all).
  if (outcome.actions_taken.empty() && previous.is_object() &&
      previous.value("actionsTakenCount", 0) > 0) {
    status["actionsTaken"] = previous["actionsTaken"];
    status["actionsTakenCount"] = previous["actionsTakenCount"];
  }
  if (const auto& migration = outcome.migration) {
    status["phase"] = migration->phase.empty() ? "Pending" : migration->phase;
    status["rowsCopied"] = migration->rows_copied;
    status["rowsRemaining"] = migration->rows_remaining;
    status["swaps"] = migration->swaps;
    status["lastSwapTime"] =
        migration->last_swap_time.empty() ? json() : json(migration->last_swap_time);
    const int64_t total = migration->rows_copied + migration->rows_remaining;
    status["progress"] =
        std::to_string(total == 0 ? 100 : migration->rows_copied * 100 / total) + "%";
  }
  if (const auto& backfill = outcome.backfill) {
    status["partitionsDone"] = backfill->done;
    status["partitionsTotal"] = backfill->total;
    status["partitionsSetAside"] = backfill->set_aside;
    status["rowsWritten"] = backfill->rows_written;
    status["currentPartition"] = backfill->current.empty() ? json() : json(backfill->current);
    status["progress"] = std::to_string(backfill->done) + "/" + std::to_string(backfill->total);
  }
  if (outcome.tenants) {
    status["tenants"] = engine["tenants"];
    // The figure of the last reconcile that created partitions for new values stays until the
    // next one does.
    const json last = previous.is_object() ? previous.value("tenants", json::object()) : json();
    if (!status["tenants"].contains("lastCreationSeconds") && last.is_object() &&
        last.contains("lastCreationSeconds"))
      status["tenants"]["lastCreationSeconds"] = last["lastCreationSeconds"];
  }
  for (const char* bound : {"oldestBound", "newestBound", "bufferedUntil"}) {
    // A merge patch removes a field set to null: bounds disappear when they no longer exist.
    status[bound] = engine[bound];
  }
  return status;
}

bool status_changed(const json& before, const json& after) {
  if (!before.is_object()) return true;
  json a = before;
  json b = after;
  a.erase("lastReconcileTime");
  b.erase("lastReconcileTime");
  for (json* status : {&a, &b}) {
    for (auto it = status->begin(); it != status->end();) {
      it = it.value().is_null() ? status->erase(it) : std::next(it);
    }
  }
  return a != b;
}

}  // namespace partop::controller
