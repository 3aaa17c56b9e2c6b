// What the planner produces: ordered actions, the findings that explain what it will not do and
// why, and figures describing the layout. Types only, shared by the planner's parts.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/partition/action.h"
#include "reconcilers/partition/key_space.h"

namespace partop {

// A fact the plan reports rather than acts on. `reason` is a CamelCase condition reason.
struct Finding {
  enum class Severity {
    kBlocking,  // the table cannot be reconciled: Ready=False, no actions
    kWarning,   // something is wrong but the plan goes on: Ready=False after apply
    kDeferred,  // work postponed on purpose (window closed, storage guard): Ready stays True
    kInfo,
  };
  Severity severity;
  std::string reason;
  std::string message;
};

// Figures describing the table's partition layout, for status and metrics.
struct LayoutFigures {
  int partition_count = 0;  // excluding DEFAULT
  std::optional<KeyValue> oldest_lower;
  std::optional<KeyValue> newest_upper;
  // Upper end of the unbroken run of partitions starting at the cell holding now (time keys) or
  // the maximum key (integer keys); nullopt when that cell has no partition.
  std::optional<KeyValue> buffered_until;
  int64_t default_rows = 0;
  int invalid_indexes = 0;
};

// True when one of `findings` is blocking.
bool any_blocking(const std::vector<Finding>& findings);

struct Plan {
  std::vector<Action> actions;
  std::vector<Finding> findings;
  LayoutFigures figures;
  std::optional<KeyType> key_type;
  bool blocked() const;
};

using TimePoint = std::chrono::system_clock::time_point;

}  // namespace partop
