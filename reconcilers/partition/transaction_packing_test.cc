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

// An observed table with one partition and `default_rows` rows in DEFAULT.
ObservedTable partitioned(int64_t default_rows = 0) {
  ObservedTable table;
  table.name = {"public", "events"};
  table.partitions = {ObservedPartition{{"public", "events_p0"}, false, -1, 0}};
  table.default_rows = default_rows;
  return table;
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
  const std::vector<Action> packed = pack_new_partitions(actions, partitioned());
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
  CHECK(sizes(pack_new_partitions(actions, partitioned(12))) == std::vector<size_t>{1, 1, 1, 1, 1});

  Action drain{ActionKind::kDrainDefault, "drain"};
  drain.creates = {ExpectedPartition{{"public", "events_p9"}, 9, 10}};
  actions.insert(actions.begin() + 3, drain);
  const std::vector<Action> packed = pack_new_partitions(actions, partitioned());
  CHECK(sizes(packed) == std::vector<size_t>{1, 2, 1, 2});
  CHECK(packed[2].kind == ActionKind::kDrainDefault);
}

TEST_CASE("packing: a lone partition between other steps stays as it is") {
  Action index{ActionKind::kCreateParentIndex, "index"};
  const std::vector<Action> packed =
      pack_new_partitions({index, create(0), index, create(1), index}, partitioned());
  REQUIRE(packed.size() == 5);
  CHECK(packed[3].summary == "create partition public.events_p1");
  CHECK(packed[3].members.empty());
}

TEST_CASE("packing: a table without partitions gets its indexes, DEFAULT and cells in one") {
  Action index{ActionKind::kCreateParentIndex, "create index events_id_idx on public.events"};
  index.statements = {"CREATE INDEX events_id_idx"};
  index.locks = {{{"public", "events"}, LockMode::kShare}};
  index.provides = {"parent index events_id_idx"};
  Action fallback{ActionKind::kCreateDefault, "create DEFAULT partition public.events_default"};
  fallback.statements = {"CREATE TABLE events_default"};
  fallback.locks = {{{"public", "events"}, LockMode::kShareUpdateExclusive}};
  std::vector<Action> actions = {index, fallback};
  for (int day = 0; day < 20; ++day) {
    actions.push_back(create(day));
    actions.back().locks.push_back({{"public", "events_default"}, LockMode::kAccessExclusive});
  }
  ObservedTable fresh;
  fresh.name = {"public", "events"};
  const std::vector<Action> packed = pack_new_partitions(actions, fresh);
  REQUIRE(packed.size() == 2);
  const Action& first = packed[0];
  CHECK(first.summary ==
        "create index events_id_idx on public.events, DEFAULT partition public.events_default, 16 "
        "partitions public.events_p0 .. public.events_p15");
  CHECK(first.members.size() == 18);
  CHECK(first.statements.front() == "CREATE INDEX events_id_idx");
  CHECK(first.statements[1] == "CREATE TABLE events_default");
  CHECK(first.creates.size() == 16);
  CHECK(first.provides == std::vector<std::string>{"parent index events_id_idx"});
  // The strongest lock per relation, strongest first.
  REQUIRE(first.locks.size() == 2);
  CHECK(first.locks[0].relation.name == "events_default");
  CHECK(first.locks[0].mode == LockMode::kAccessExclusive);
  CHECK(first.locks[1].relation.name == "events");
  CHECK(first.locks[1].mode == LockMode::kShare);
  CHECK(packed[1].summary == "create 4 partitions public.events_p16 .. public.events_p19");

  // Without indexes or DEFAULT, the first cell does not go alone either.
  std::vector<Action> cells;
  for (int day = 0; day < 3; ++day) cells.push_back(create(day));
  const std::vector<Action> only_cells = pack_new_partitions(cells, fresh);
  REQUIRE(only_cells.size() == 1);
  CHECK(only_cells[0].summary == "create 3 partitions public.events_p0 .. public.events_p2");

  // A lone first object stays as it is.
  const std::vector<Action> lone = pack_new_partitions({fallback}, fresh);
  REQUIRE(lone.size() == 1);
  CHECK(lone[0].members.empty());
}

}  // namespace partop
