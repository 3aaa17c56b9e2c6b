// Guards against a real PostgreSQL: the lock guard backs off instead of queueing the
// application behind partop, and two partop runs never run DDL on one table at once.
#include <doctest/doctest.h>

#include <future>

#include "reconcilers/partition/pg_session.h"
#include "tests/support/load.h"
#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

using std::chrono::milliseconds;

// Today's partition and DEFAULT exist, tomorrow's is missing and an old one has expired: apply
// must both ATTACH (ACCESS EXCLUSIVE on DEFAULT) and DROP (ACCESS EXCLUSIVE on the parent).
void create_table_needing_create_and_drop(const TestDatabase& db) {
  create_events_with_today_and_expired(db, 100);
  db.exec(R"(
    INSERT INTO events SELECT i, date_trunc('day', now(), 'UTC') + interval '1 second' * i
      FROM generate_series(1, 10000) i;
    CREATE INDEX ON events (id);
  )");
}

constexpr const char* kSpec =
    "  table: events\n  interval: daily\n  premake: 1\n  retention: {keep: 30 days}\n"
    "  guards: {lockTimeout: 1s}\n";

}  // namespace

TEST_CASE(
    "a long report query makes apply back off within lockTimeout; writers and readers never "
    "queue") {
  TestDatabase db;
  create_table_needing_create_and_drop(db);
  db.reset_ddl_log();

  StatementLoop inserter(
      db.dsn(),
      "INSERT INTO events VALUES (1, date_trunc('day', now(), 'UTC') + interval '2 hours')");
  StatementLoop reader(db.dsn(), "SELECT * FROM events WHERE id = 4242");
  auto report = std::async(std::launch::async, [&] {
    open_pg_session(db.dsn())->query("SELECT count(*), pg_sleep(10) FROM events");
  });
  std::this_thread::sleep_for(milliseconds(500));  // the report holds its locks now

  const auto started = std::chrono::steady_clock::now();
  const Outcome blocked = apply_policy(db, make_policy(kSpec));
  const auto apply_time = std::chrono::steady_clock::now() - started;
  std::this_thread::sleep_for(milliseconds(1500));  // let any queue behind partop show up
  const milliseconds insert_worst = inserter.longest();
  const milliseconds read_worst = reader.longest();

  CHECK(blocked.ready_reason() == "LockTimeout");
  CHECK(blocked.retry_with_backoff);
  CHECK(blocked.condition("Stalled")->status == "False");
  CHECK(blocked.condition("Reconciling")->status == "True");
  MESSAGE("apply backed off after " << std::chrono::duration_cast<milliseconds>(apply_time).count()
                                    << " ms; worst insert " << insert_worst.count()
                                    << " ms, worst read " << read_worst.count() << " ms; "
                                    << blocked.condition("Ready")->message);
  CHECK(apply_time < milliseconds(2500));
  CHECK(insert_worst < milliseconds(2000));
  CHECK(read_worst < milliseconds(2000));
  CHECK(inserter.failed() == 0);
  CHECK(reader.failed() == 0);

  report.get();
  const Outcome after = apply_policy(db, make_policy(kSpec));
  inserter.stop();
  reader.stop();
  CHECK_MESSAGE(after.ready(), after.condition("Ready")->message);
  CHECK(db.scalar("SELECT to_regclass('events_expired')").empty());
}

TEST_CASE("a second partop on the same table reports Busy and runs no DDL") {
  TestDatabase db;
  create_table_needing_create_and_drop(db);
  db.reset_ddl_log();
  const auto other = open_pg_session(db.dsn());
  other->query("SELECT pg_advisory_lock(1885434484, hashtext('public.events'))");
  const Outcome outcome = apply_policy(db, make_policy(kSpec));
  CHECK(outcome.ready_reason() == "Busy");
  CHECK(outcome.retry_with_backoff);
  CHECK(db.ddl_count() == 0);
  other->query("SELECT pg_advisory_unlock_all()");
  CHECK(apply_policy(db, make_policy(kSpec)).ready());
}

TEST_CASE("a second runner waits for the first one's step instead of planning beside it") {
  TestDatabase db;
  create_table_needing_create_and_drop(db);
  db.reset_ddl_log();
  // Another runner holds the table for less than lockTimeout (2 s) ...
  const auto other = open_pg_session(db.dsn());
  other->query("SELECT pg_advisory_lock(1885434484, hashtext('public.events'))");
  auto release = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(milliseconds(700));
    other->query("SELECT pg_advisory_unlock_all()");
  });
  // ... so this one waits, then plans from the catalog as it is after that runner's step.
  const auto started = std::chrono::steady_clock::now();
  const Outcome outcome = apply_policy(db, make_policy(kSpec));
  release.get();
  CHECK_MESSAGE(outcome.ready(), outcome.ready_reason());
  CHECK(std::chrono::steady_clock::now() - started >= milliseconds(700));
  CHECK(db.ddl_count() > 0);
}

TEST_CASE("two concurrent applies on one table converge without errors") {
  TestDatabase db;
  db.exec("CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)");
  const Policy policy = make_policy("  table: events\n  interval: hourly\n  premake: 48\n");
  auto first = std::async(std::launch::async, [&] { return apply_policy(db, policy); });
  auto second = std::async(std::launch::async, [&] { return apply_policy(db, policy); });
  const Outcome a = first.get();
  const Outcome b = second.get();
  // Each is Ready or was held back by a guard: Busy (the other held the table's advisory lock
  // past lockTimeout) or LockTimeout (its first catalog read, made before the advisory lock, met
  // the other's ACCESS EXCLUSIVE on DEFAULT during an ATTACH and gave up). Neither is an error.
  for (const Outcome* outcome : {&a, &b}) {
    CHECK_MESSAGE((outcome->ready() || outcome->ready_reason() == "Busy" ||
                   outcome->ready_reason() == "LockTimeout"),
                  outcome->ready_reason());
  }
  CHECK(apply_policy(db, policy).actions_taken.empty());
  CHECK(db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass") == 50);
}

}  // namespace partop::testing

namespace partop::testing {

TEST_CASE("reading the catalog does not queue behind a lock on one partition") {
  TestDatabase db;
  create_table_needing_create_and_drop(db);
  const Policy policy = make_policy(kSpec);
  REQUIRE(apply_policy(db, policy).ready());
  auto holder = std::async(std::launch::async, [&] {
    db.exec("BEGIN; LOCK TABLE events_today IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;");
  });
  std::this_thread::sleep_for(milliseconds(500));
  const auto started = std::chrono::steady_clock::now();
  const Outcome observed = observe_policy(db, policy);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK_MESSAGE(observed.ready(), observed.ready_reason());
  CHECK(elapsed < milliseconds(2000));
  holder.get();
}

}  // namespace partop::testing
