#include "reconcilers/partition/outcome.h"

#include <algorithm>

#include "reconcilers/partition/db_session.h"

namespace partop {

Outcome outcome_of_error(Outcome base, const std::string& doing, const std::exception& error) {
  const auto* database = dynamic_cast<const DatabaseError*>(&error);
  const std::string reason = database == nullptr           ? "InternalError"
                             : database->is_lock_timeout() ? "LockTimeout"
                             : database->is_insufficient_privilege()
                                 ? "InsufficientPrivilege"
                                 : database->unavailable_reason();
  base.retry_with_backoff = reason != "InsufficientPrivilege";
  set_summary_conditions(base, false, reason,
                         database == nullptr ? error.what() : doing + ": " + error.what(), false);
  return base;
}

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
  if (backfill) {
    out["backfill"] = {{"done", backfill->done},
                       {"total", backfill->total},
                       {"setAside", backfill->set_aside},
                       {"rowsWritten", backfill->rows_written},
                       {"current", backfill->current}};
  }
  if (tenants) {
    out["tenants"] = {{"total", tenants->total},
                      {"ready", tenants->ready},
                      {"notReady", tenants->not_ready},
                      {"valuesWithoutSource", tenants->values_without_source}};
    if (tenants->creation_seconds)
      out["tenants"]["lastCreationSeconds"] = *tenants->creation_seconds;
  }
  if (migration) {
    out["migration"] = {{"phase", migration->phase},
                        {"target", migration->target},
                        {"rowsCopied", migration->rows_copied},
                        {"rowsRemaining", migration->rows_remaining},
                        {"swaps", migration->swaps},
                        {"lastSwapTime", migration->last_swap_time}};
  }
  return out;
}

// Reasons that need a human: the spec or the table must change before partop can proceed.
bool needs_human(const std::string& reason) {
  return reason == "InvalidSpec" || reason == "TableNotFound" || reason == "TableNotPartitioned" ||
         reason == "UnsupportedPartitionKey" || reason == "PartitionConflict" ||
         reason == "LayoutMismatch" || reason == "IndexDefinitionMismatch" ||
         reason == "DefaultPartitionNotEmpty" || reason == "ActionFailed" ||
         reason == "VerificationFailed" || reason == "Conflict" ||
         reason == "InsufficientPrivilege" || reason == "ReferencedByForeignKey" ||
         reason == "RowsOutsideHorizon" || reason == "NoPrimaryKey" ||
         reason == "DependentObjects" || reason == "AlreadyPartitioned" ||
         reason == "UniqueConstraintNotCarried" || reason == "StrategyChanged" ||
         reason == "MigrationStateInconsistent" || reason == "MigrationFinalized" ||
         reason == "ColumnsChanged" || reason == "SourceNotFound" ||
         reason == "SourceColumnsMissing" || reason == "ValuesSourceNotFound" ||
         reason == "PartitionNameTaken" || reason == "RowsInDefault" ||
         reason == "TenantNotSubPartitioned" || reason == "RangeNotOnPartitionBounds" ||
         reason == "RangeIncludesCurrent" || reason == "ReplacedNameTaken" ||
         reason == "UnsupportedPartition" || reason == "AuthenticationFailed";
}

void set_summary_conditions(Outcome& outcome, bool ready, const std::string& reason,
                            const std::string& message, bool in_progress) {
  set_condition(outcome.conditions, {"Ready", ready ? "True" : "False", reason, message});
  set_condition(outcome.conditions, {"Reconciling", in_progress ? "True" : "False",
                                     in_progress ? reason : "ReconcileComplete",
                                     in_progress ? message : "no further action planned"});
  const bool stalled = !ready && needs_human(reason);
  set_condition(outcome.conditions,
                {"Stalled", stalled ? "True" : "False", stalled ? reason : "NotStalled",
                 stalled ? message : "nothing needs a human"});
  // Summary conditions first, in a fixed order, as kubectl describe shows them.
  static const std::vector<std::string> kOrder = {"Ready", "Reconciling", "Stalled"};
  std::stable_sort(outcome.conditions.begin(), outcome.conditions.end(),
                   [](const Condition& a, const Condition& b) {
                     auto rank = [](const Condition& c) {
                       return std::find(kOrder.begin(), kOrder.end(), c.type) - kOrder.begin();
                     };
                     return rank(a) < rank(b);
                   });
}

}  // namespace partop
