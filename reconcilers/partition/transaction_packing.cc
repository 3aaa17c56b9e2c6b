#include "reconcilers/partition/transaction_packing.h"

namespace partop {
namespace {

// One transaction for `members` (at least two consecutive create-partition actions).
Action packed(std::vector<Action> members) {
  Action out{ActionKind::kCreatePartition,
             "create " + std::to_string(members.size()) + " partitions " +
                 members.front().creates.at(0).name.display() + " .. " +
                 members.back().creates.at(0).name.display()};
  out.locks = members.front().locks;  // every member takes the same locks
  for (const Action& member : members) {
    // Each member notifies too: PostgreSQL delivers identical notifications of one
    // transaction once.
    out.statements.insert(out.statements.end(), member.statements.begin(), member.statements.end());
    out.creates.insert(out.creates.end(), member.creates.begin(), member.creates.end());
  }
  out.members = std::move(members);
  return out;
}

}  // namespace

std::vector<Action> pack_new_partitions(std::vector<Action> actions, int64_t default_rows) {
  if (default_rows > 0) return actions;
  std::vector<Action> out;
  std::vector<Action> run;  // consecutive create-partition actions not yet emitted
  bool first_created = false;
  const auto flush = [&] {
    if (run.size() == 1) {
      out.push_back(std::move(run.front()));
    } else if (run.size() > 1) {
      out.push_back(packed(std::move(run)));
    }
    run.clear();
  };
  for (Action& action : actions) {
    const bool packable = action.kind == ActionKind::kCreatePartition &&
                          action.creates.size() == 1 && action.members.empty();
    if (!packable) {
      flush();
      out.push_back(std::move(action));
      continue;
    }
    if (!first_created) {
      first_created = true;
      out.push_back(std::move(action));
      continue;
    }
    run.push_back(std::move(action));
    if (run.size() == kPartitionsPerTransaction) flush();
  }
  flush();
  return out;
}

}  // namespace partop
