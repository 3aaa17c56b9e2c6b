#include "reconcilers/partition/transaction_packing.h"

#include <doctest/doctest.h>

namespace partop {
namespace {

Action create(int day) {
  const std::string name = "events_p" + std::to_string(day);
  Action action{ActionKind::kCreatePartition, "create partition public." + name};
  action.statements = {"CREATE TABLE " + name, "ATTACH " + name, "NOTIFY"};
  action.locks = {{{"public", "events"}, LockMode::kShareUpdateExclusive}};
  action.creates = {ExpectedPartition{{"public", name}, day, day + 1}};
  return action;
}

std::vector<size_t> sizes(const std::vector<Action>& actions) {
  std::vector<size_t> out;
  for (const auto& action : actions) out.push_back(action.creates.size());
  return out;
}

}  // namespace

TEST_CASE("packing: the first new partition alone, then sixteen per transaction") {
  std::vector<Action> actions;
  for (int day = 0; day < 40; ++day) actions.push_back(create(day));
  const std::vector<Action> packed = pack_new_partitions(actions, 0);
  CHECK(sizes(packed) == std::vector<size_t>{1, 16, 16, 7});
  CHECK(packed[0].members.empty());
  const Action& second = packed[1];
  CHECK(second.kind == ActionKind::kCreatePartition);
  CHECK(second.summary == "create 16 partitions public.events_p1 .. public.events_p16");
  CHECK(second.members.size() == 16);
  CHECK(second.statements.size() == 16 * 3);
  CHECK(second.statements[3] == "CREATE TABLE events_p2");
  CHECK(second.creates.back().name.name == "events_p16");
  CHECK(second.locks.size() == 1);
}

TEST_CASE("packing: nothing is packed while DEFAULT holds rows, nor across another step") {
  std::vector<Action> actions;
  for (int day = 0; day < 5; ++day) actions.push_back(create(day));
  CHECK(sizes(pack_new_partitions(actions, 12)) == std::vector<size_t>{1, 1, 1, 1, 1});

  Action drain{ActionKind::kDrainDefault, "drain"};
  drain.creates = {ExpectedPartition{{"public", "events_p9"}, 9, 10}};
  actions.insert(actions.begin() + 3, drain);
  const std::vector<Action> packed = pack_new_partitions(actions, 0);
  CHECK(sizes(packed) == std::vector<size_t>{1, 2, 1, 2});
  CHECK(packed[2].kind == ActionKind::kDrainDefault);
}

TEST_CASE("packing: a lone partition between other steps stays as it is") {
  Action index{ActionKind::kCreateParentIndex, "index"};
  const std::vector<Action> packed =
      pack_new_partitions({index, create(0), index, create(1), index}, 0);
  REQUIRE(packed.size() == 5);
  CHECK(packed[3].summary == "create partition public.events_p1");
  CHECK(packed[3].members.empty());
}

}  // namespace partop
