#include "reconcilers/partition/action.h"

namespace partop {

std::string_view action_kind_name(ActionKind kind) {
  switch (kind) {
    case ActionKind::kCreateDefault:
      return "create-default";
    case ActionKind::kCreatePartition:
      return "create-partition";
    case ActionKind::kCreateListPartition:
      return "create-list-partition";
    case ActionKind::kDrainDefault:
      return "drain-default";
    case ActionKind::kCreateParentIndex:
      return "create-parent-index";
    case ActionKind::kBuildPartitionIndex:
      return "build-partition-index";
    case ActionKind::kAttachPartitionIndex:
      return "attach-partition-index";
    case ActionKind::kRebuildIndex:
      return "rebuild-index";
    case ActionKind::kDropPartition:
      return "drop-partition";
    case ActionKind::kDetachPartition:
      return "detach-partition";
    case ActionKind::kPrepareMigration:
      return "prepare-migration";
    case ActionKind::kStartSync:
      return "start-sync";
    case ActionKind::kCopyBatch:
      return "copy-batch";
    case ActionKind::kSwap:
      return "swap";
    case ActionKind::kFinalizeMigration:
      return "finalize-migration";
    case ActionKind::kStartBackfill:
      return "start-backfill";
    case ActionKind::kFillSlice:
      return "fill-slice";
    case ActionKind::kPrepareShadow:
      return "prepare-shadow";
    case ActionKind::kFinishShadow:
      return "finish-shadow";
    case ActionKind::kSwapPartition:
      return "swap-partition";
    case ActionKind::kSetAsideRebuild:
      return "set-aside-rebuild";
  }
  return "unknown";
}

}  // namespace partop
