// PartitionBackfill in the operator: a SlicedController (see sliced_controller.h) running the
// backfill engine for one slice at a time, its status showing partitions done and rows written.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/sliced_controller.h"
#include "reconcilers/backfill/backfill_reconciler.h"

namespace partop::controller {

struct BackfillKind {
  static constexpr const char* kKind = "PartitionBackfill";
  static constexpr const char* kPlural = "partitionbackfills";
  static constexpr const char* kController = "partitionbackfill";
  using Resource = Backfill;
  using Engine = BackfillReconciler;
  static std::optional<Backfill> parse(const nlohmann::json& object, std::string& errors);
  // spec.policyRef followed to the PartitionPolicy of the backfill's namespace (policy_ref.h).
  static ResolvedDocument resolve(const nlohmann::json& object,
                                  const runtime::ObjectStore& policies);
  // Complete (Ready, reason Complete) for its current generation: another backfill of the
  // table may run. An edit of the spec makes it claim again.
  static bool done(const nlohmann::json& object);
  static constexpr runtime::RemainingWork kRemainingWork =
      runtime::RemainingWork::kBackfillPartitions;
  static std::optional<double> remaining(const Outcome& outcome) {
    if (!outcome.backfill) return std::nullopt;
    return outcome.backfill->total - outcome.backfill->done;
  }
};

using PartitionBackfillController = SlicedController<BackfillKind>;

inline const runtime::Resource& partition_backfills() {
  return sliced_resource<BackfillKind>();
}

}  // namespace partop::controller
