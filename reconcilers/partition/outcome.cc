#include "reconcilers/partition/outcome.h"

namespace partop {

void set_condition(std::vector<Condition>& conditions, Condition condition) {
  for (auto& existing : conditions) {
    if (existing.type == condition.type) {
      existing = std::move(condition);
      return;
    }
  }
  conditions.push_back(std::move(condition));
}

const Condition* Outcome::condition(const std::string& type) const {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool Outcome::ready() const {
  const Condition* c = condition("Ready");
  return c != nullptr && c->status == "True";
}

std::string Outcome::ready_reason() const {
  const Condition* c = condition("Ready");
  return c == nullptr ? "Unknown" : c->reason;
}

nlohmann::json Outcome::to_json() const {
  nlohmann::json out;
  out["policy"] = policy;
  out["table"] = table;
  nlohmann::json conditions_json = nlohmann::json::array();
  for (const auto& c : conditions) {
    conditions_json.push_back(
        {{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}});
  }
  out["conditions"] = conditions_json;
  out["partitionCount"] = figures.partition_count;
  auto bound = [&](const std::optional<KeyValue>& value) -> nlohmann::json {
    if (!value || !key_type) return nullptr;
    return key_display(*key_type, *value);
  };
  out["oldestBound"] = bound(figures.oldest_lower);
  out["newestBound"] = bound(figures.newest_upper);
  out["bufferedUntil"] = bound(figures.buffered_until);
  out["defaultRows"] = figures.default_rows;
  out["invalidIndexes"] = figures.invalid_indexes;
  out["rowsDrained"] = rows_drained;
  out["actionsTaken"] = actions_taken;
  out["actionsPending"] = actions_pending;
  nlohmann::json findings_json = nlohmann::json::array();
  for (const auto& f : findings)
    findings_json.push_back({{"reason", f.reason}, {"message", f.message}});
  out["findings"] = findings_json;
  out["requeueAfterSeconds"] = std::chrono::duration<double>(requeue_after).count();
  return out;
}

}  // namespace partop
