// The executor's control logic against a scripted session: guards before each step, one
// transaction per step, what stops a run and what fails only its own step.
#include "reconcilers/partition/executor.h"

#include <doctest/doctest.h>

#include "reconcilers/partition/transaction_packing.h"
#include "tests/support/fake_database_session.h"

namespace partop {
namespace {

using testing::FakeDatabaseSession;

Action step(const std::string& name, std::vector<std::string> needs = {}) {
  Action action(ActionKind::kCreatePartition, "create " + name);
  action.statements = {"CREATE TABLE " + name + " ()", "ALTER TABLE parent ATTACH " + name};
  action.locks = {{{"public", "parent"}, LockMode::kShareUpdateExclusive}};
  action.provides = {name};
  action.needs = std::move(needs);
  return action;
}

// A row of the guards' query for a lock: "lock", schema, relation, mode, granted, pid, seconds
// open, query, milliseconds open.
SqlRows lock_held(const std::string& mode) {
  return {{"lock", "public", "parent", mode, "true", "4242", "12", "SELECT report()", "12000"}};
}

}  // namespace

TEST_CASE("executor: each step is one transaction, guarded first") {
  FakeDatabaseSession session;
  const Execution run = Executor(session, GuardSpec{}).execute({step("a"), step("b")});
  CHECK(run.applied == std::vector<std::string>{"create a", "create b"});
  CHECK(run.not_run.empty());
  CHECK_FALSE(run.stopped.has_value());
  REQUIRE(session.committed.size() == 2);
  CHECK(session.committed[0][0] == "CREATE TABLE a ()");
  // Before each step, in one round trip: the lag breaker and the lock pre-check.
  CHECK(session.queries.size() == 2);
  CHECK(session.queries[0].find("pg_stat_replication") != std::string::npos);
  CHECK(session.queries[0].find("pg_locks") != std::string::npos);
}

TEST_CASE("executor: a conflicting lock holder stops the run before any DDL") {
  FakeDatabaseSession session;
  session.answer("pg_locks", lock_held("AccessExclusiveLock"));
  const Execution run = Executor(session, GuardSpec{}).execute({step("a"), step("b")});
  REQUIRE(run.stopped.has_value());
  CHECK(run.stopped->reason == "LockTimeout");
  CHECK(run.stopped->message.find("pid 4242 holds") != std::string::npos);
  CHECK(session.committed.empty());
  CHECK(run.not_run == std::vector<std::string>{"create a", "create b"});
}

TEST_CASE("executor: a step that may queue waits behind young transactions, not old ones") {
  FakeDatabaseSession session;
  session.answer("pg_locks", {{"lock", "public", "parent", "RowExclusiveLock", "true", "7", "0",
                               "UPDATE parent SET v = 1", "40"}});
  Action swap = step("swap");
  swap.locks = {{{"public", "parent"}, LockMode::kAccessExclusive}};
  swap.queues_behind_short_transactions = true;
  CHECK(Executor(session, GuardSpec{}).execute({swap}).applied.size() == 1);
  FakeDatabaseSession busy;
  busy.answer("pg_locks", lock_held("RowExclusiveLock"));  // open for 12 s: past lockTimeout
  const Execution run = Executor(busy, GuardSpec{}).execute({swap});
  REQUIRE(run.stopped.has_value());
  CHECK(run.stopped->reason == "LockTimeout");
}

TEST_CASE("executor: a lock that does not conflict is no reason to wait") {
  FakeDatabaseSession session;
  session.answer("pg_locks", lock_held("AccessShareLock"));
  const Execution run = Executor(session, GuardSpec{}).execute({step("a")});
  CHECK_FALSE(run.stopped.has_value());
  CHECK(run.applied.size() == 1);
}

TEST_CASE("executor: replication lag over the limit holds DDL back") {
  FakeDatabaseSession session;
  session.answer("pg_stat_replication", {{"lag", "standby1", "9.5", "1024", SqlValue{}, SqlValue{},
                                          SqlValue{}, SqlValue{}, SqlValue{}}});
  const Execution run = Executor(session, GuardSpec{}).execute({step("a")});
  REQUIRE(run.stopped.has_value());
  CHECK(run.stopped->reason == "ReplicationLagHigh");
  CHECK(session.committed.empty());
}

TEST_CASE("executor: a lock timeout during a step stops the run, the step is left for later") {
  FakeDatabaseSession session;
  session.fail("ATTACH b", "55P03");
  const Execution run = Executor(session, GuardSpec{}).execute({step("a"), step("b"), step("c")});
  REQUIRE(run.stopped.has_value());
  CHECK(run.stopped->reason == "LockTimeout");
  CHECK(run.applied == std::vector<std::string>{"create a"});
  CHECK(run.not_run == std::vector<std::string>{"create b", "create c"});
}

TEST_CASE("executor: a statement timeout and a lost connection stop the run too") {
  for (const auto& [sqlstate, reason] : std::vector<std::pair<std::string, std::string>>{
           {"57014", "StatementTimeout"}, {"08006", "DatabaseUnavailable"}}) {
    FakeDatabaseSession session;
    session.fail("CREATE TABLE a", sqlstate);
    const Execution run = Executor(session, GuardSpec{}).execute({step("a"), step("b")});
    REQUIRE(run.stopped.has_value());
    CHECK(run.stopped->reason == reason);
    CHECK(session.committed.empty());
  }
}

TEST_CASE("executor: a refused privilege stops the run and says what partop's role needs") {
  FakeDatabaseSession session;
  session.fail("CREATE TABLE a", "42501");
  const Execution run = Executor(session, GuardSpec{}).execute({step("a"), step("b")});
  REQUIRE(run.stopped.has_value());
  CHECK(run.stopped->reason == "InsufficientPrivilege");
  CHECK(run.stopped->message.find("membership in the role that owns the table") !=
        std::string::npos);
  CHECK(run.not_run == std::vector<std::string>{"create a", "create b"});
}

TEST_CASE("executor: an ordinary SQL error fails its own step and the steps that need it") {
  FakeDatabaseSession session;
  session.fail("CREATE TABLE a", "42P07");  // duplicate_table
  const Execution run = Executor(session, GuardSpec{})
                            .execute({step("a"), step("b"), step("a-index", {"a"}),
                                      step("a-index-attach", {"a-index"}), step("c", {"b"})});
  CHECK_FALSE(run.stopped.has_value());
  REQUIRE(run.failures.size() == 1);
  CHECK(run.failures[0].find("create a: injected failure") == 0);
  // Skipped transitively: a dependency that was itself skipped is missing too.
  CHECK(run.not_run == std::vector<std::string>{"create a-index", "create a-index-attach"});
  CHECK(run.applied == std::vector<std::string>{"create b", "create c"});
}

TEST_CASE("executor: a dependency planned in another run never blocks") {
  FakeDatabaseSession session;
  const Execution run = Executor(session, GuardSpec{}).execute({step("x", {"built-earlier"})});
  CHECK(run.applied == std::vector<std::string>{"create x"});
}

TEST_CASE("executor: a transaction the server rolled back stops the run as ConcurrentUpdate") {
  for (const char* sqlstate : {"40001", "40P01"}) {
    CAPTURE(sqlstate);
    FakeDatabaseSession session;
    session.fail("CREATE TABLE a", sqlstate);
    const Execution run = Executor(session, GuardSpec{}).execute({step("a"), step("b")});
    REQUIRE(run.stopped.has_value());
    CHECK(run.stopped->reason == "ConcurrentUpdate");
    CHECK(run.failures.empty());
  }
}

TEST_CASE("executor: a stop request ends the run at the next step boundary") {
  FakeDatabaseSession session;
  int asked = 0;
  const Execution run = Executor(session, GuardSpec{}, [&] {
                          return ++asked > 1;
                        }).execute({step("a"), step("b"), step("c")});
  REQUIRE(run.stopped.has_value());
  CHECK(run.stopped->reason == "ShuttingDown");
  CHECK(run.applied == std::vector<std::string>{"create a"});
  CHECK(run.not_run == std::vector<std::string>{"create b", "create c"});
}

TEST_CASE("executor: long steps run under limits of their own") {
  FakeDatabaseSession session;
  GuardSpec guards;
  guards.statement_timeout = std::chrono::seconds(30);
  guards.drain_timeout = std::chrono::minutes(10);
  guards.index_build_timeout = std::chrono::hours(6);
  Action drain(ActionKind::kDrainDefault, "drain");
  drain.statements = {"WITH moved AS (DELETE ...) INSERT ..."};
  Action build(ActionKind::kBuildPartitionIndex, "build");
  build.transactional = false;
  build.statements = {"CREATE INDEX CONCURRENTLY ..."};
  Executor(session, guards).execute({step("a"), drain, build});
  REQUIRE(session.limits_used.size() == 3);
  CHECK(session.limits_used[0].statement_timeout == std::chrono::seconds(30));
  CHECK(session.limits_used[1].statement_timeout == std::chrono::minutes(10));
  CHECK(session.limits_used[2].statement_timeout == std::chrono::hours(6));
  for (const auto& limits : session.limits_used) CHECK(limits.lock_timeout == guards.lock_timeout);
  // plan prints the same limits apply uses.
  bool printed = false;
  for (const auto& line : Executor::rendered_sql(drain, guards))
    printed = printed || line == "SET LOCAL statement_timeout = '600000ms'";
  CHECK(printed);
}

TEST_CASE("executor: drained rows are counted from the statement that moves them") {
  FakeDatabaseSession session;
  session.affect(250);
  Action drain(ActionKind::kDrainDefault, "drain 2026-01-01");
  drain.statements = {"CREATE TABLE p ()", "WITH moved AS (DELETE ...) INSERT ...", "ATTACH p"};
  drain.moved_rows_statement = 1;
  const Execution run = Executor(session, GuardSpec{}).execute({drain});
  CHECK(run.rows_drained == 250);
  CHECK(run.applied_kinds == std::vector<ActionKind>{ActionKind::kDrainDefault});
}

}  // namespace partop

namespace partop {

TEST_CASE(
    "executor: packed partitions commit together, a bad cell is found by retrying each alone") {
  std::vector<Action> cells;
  for (const char* name : {"a", "b", "c", "d"}) {
    Action cell = step(name);
    cell.provides.clear();
    cell.creates = {ExpectedPartition{{"public", name}, 0, 1}};
    cells.push_back(cell);
  }
  ObservedTable table;  // a table with a partition already: the first new cell goes alone
  table.partitions = {ObservedPartition{{"public", "z"}, false, -1, 0}};
  const std::vector<Action> packed = pack_new_partitions(cells, table);
  REQUIRE(packed.size() == 2);  // a alone, then b c d

  FakeDatabaseSession session;
  const Execution run = Executor(session, GuardSpec{}).execute(packed);
  CHECK(session.committed.size() == 2);
  CHECK(run.applied ==
        std::vector<std::string>{"create a", "create 3 partitions public.b .. public.d"});
  CHECK(run.created.size() == 4);
  CHECK(run.applied_kinds.size() == 4);  // each packed member counts as a step

  // c's ATTACH fails in the packed transaction and again alone: b and d are applied.
  FakeDatabaseSession failing;
  failing.fail("ATTACH c", "42P07", 2);
  const Execution retried = Executor(failing, GuardSpec{}).execute(packed);
  CHECK(retried.applied == std::vector<std::string>{"create a", "create b", "create d"});
  REQUIRE(retried.failures.size() == 1);
  CHECK(retried.failures[0].find("create c: ") == 0);
  CHECK(retried.created.size() == 3);
  CHECK(retried.not_run.empty());
  CHECK_FALSE(retried.stopped.has_value());

  // A guard outcome in the packed transaction stops the run: nothing is retried.
  FakeDatabaseSession locked;
  locked.fail("ATTACH c", "55P03");
  const Execution stopped = Executor(locked, GuardSpec{}).execute(packed);
  REQUIRE(stopped.stopped.has_value());
  CHECK(stopped.stopped->reason == "LockTimeout");
  CHECK(stopped.applied == std::vector<std::string>{"create a"});
  CHECK(stopped.not_run == std::vector<std::string>{"create 3 partitions public.b .. public.d"});
}

}  // namespace partop
