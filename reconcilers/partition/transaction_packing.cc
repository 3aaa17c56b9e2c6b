#include "reconcilers/partition/transaction_packing.h"

#include <algorithm>
#include <string_view>

namespace partop {
namespace {

bool is_single_cell(const Action& action) {
  return action.kind == ActionKind::kCreatePartition && action.creates.size() == 1 &&
         action.members.empty();
}

// What may commit with a table's first partitions: its parent indexes and DEFAULT.
bool is_first_object(const Action& action) {
  return action.kind == ActionKind::kCreateParentIndex || action.kind == ActionKind::kCreateDefault;
}

// A summary without its leading "create ".
std::string created_object(const std::string& summary) {
  constexpr std::string_view kCreate = "create ";
  return summary.compare(0, kCreate.size(), kCreate) == 0 ? summary.substr(kCreate.size())
                                                          : summary;
}

// "create DEFAULT partition t_default, 3 partitions t_p1 .. t_p3": the members' summaries, their
// partitions counted.
std::string packed_summary(const std::vector<Action>& members) {
  std::vector<std::string> parts;
  std::vector<const Action*> cells;
  for (const Action& member : members) {
    if (is_single_cell(member)) {
      cells.push_back(&member);
    } else {
      parts.push_back(created_object(member.summary));
    }
  }
  if (cells.size() == 1) parts.push_back(created_object(cells.front()->summary));
  if (cells.size() > 1) {
    parts.push_back(std::to_string(cells.size()) + " partitions " +
                    cells.front()->creates.at(0).name.display() + " .. " +
                    cells.back()->creates.at(0).name.display());
  }
  std::string out = "create";
  for (size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? " " : ", ") + parts[i];
  return out;
}

// One transaction for `members` (at least two actions).
Action packed(std::vector<Action> members) {
  Action out{ActionKind::kCreatePartition, packed_summary(members)};
  for (const Action& member : members) {
    for (const LockRequest& lock : member.locks) {
      const auto same = std::find_if(out.locks.begin(), out.locks.end(), [&](const LockRequest& l) {
        return l.relation == lock.relation;
      });
      if (same == out.locks.end()) {
        out.locks.push_back(lock);
      } else {
        same->mode = std::max(same->mode, lock.mode);
      }
    }
    // Each member notifies too: PostgreSQL delivers identical notifications of one
    // transaction once.
    out.statements.insert(out.statements.end(), member.statements.begin(), member.statements.end());
    out.creates.insert(out.creates.end(), member.creates.begin(), member.creates.end());
    out.provides.insert(out.provides.end(), member.provides.begin(), member.provides.end());
    for (const std::string& need : member.needs) {
      if (std::find(out.provides.begin(), out.provides.end(), need) == out.provides.end())
        out.needs.push_back(need);
    }
  }
  std::stable_sort(out.locks.begin(), out.locks.end(),
                   [](const LockRequest& a, const LockRequest& b) { return a.mode > b.mode; });
  out.members = std::move(members);
  return out;
}

}  // namespace

std::vector<Action> pack_new_partitions(std::vector<Action> actions, const ObservedTable& table) {
  if (table.default_rows > 0) return actions;
  std::vector<Action> out;
  std::vector<Action> run;  // actions to commit together, not yet emitted
  size_t cells_in_run = 0;
  const auto flush = [&] {
    if (run.size() == 1) {
      out.push_back(std::move(run.front()));
    } else if (run.size() > 1) {
      out.push_back(packed(std::move(run)));
    }
    run.clear();
    cells_in_run = 0;
  };
  size_t next = 0;
  // A table without partitions: its first objects, then its first partitions, in one run.
  const bool first_objects = table.partitions.empty();
  if (first_objects) {
    for (; next < actions.size() && is_first_object(actions[next]); ++next)
      run.push_back(std::move(actions[next]));
  }
  bool first_cell_placed = first_objects;  // else the first new cell commits alone
  for (; next < actions.size(); ++next) {
    Action& action = actions[next];
    if (!is_single_cell(action)) {
      flush();
      out.push_back(std::move(action));
      continue;
    }
    if (!first_cell_placed) {
      first_cell_placed = true;
      out.push_back(std::move(action));
      continue;
    }
    run.push_back(std::move(action));
    if (++cells_in_run == kPartitionsPerTransaction) flush();
  }
  flush();
  return out;
}

}  // namespace partop
