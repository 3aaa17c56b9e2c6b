#include "reconcilers/partition/session_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

#include "tests/support/fake_database_session.h"

namespace partop {
namespace {

using std::chrono::milliseconds;

// Sessions that say whether they may be reused, and count how many are alive.
struct CountedSession : testing::FakeDatabaseSession {
  explicit CountedSession(std::atomic<int>& alive, bool& reusable_flag)
      : alive_(alive), reusable_flag_(reusable_flag) {
    ++alive_;
    fail("BROKEN", "08006", 100);  // the connection is lost
    fail("SLOW", "57014", 100);    // statement timeout
  }
  ~CountedSession() override { --alive_; }
  bool reusable() const override { return reusable_flag_; }

 private:
  std::atomic<int>& alive_;
  bool& reusable_flag_;
};

struct CountingConnector : DatabaseConnector {
  std::unique_ptr<DatabaseSession> connect(const std::string& dsn, milliseconds) override {
    if (dsn == "unreachable") throw DatabaseError("connection refused", "");
    ++connects;
    return std::make_unique<CountedSession>(alive, reusable);
  }
  std::atomic<int> connects{0};
  std::atomic<int> alive{0};
  bool reusable = true;
};

}  // namespace

TEST_CASE("session pool: a reconcile reuses the session the previous one gave back") {
  CountingConnector connector;
  SessionPool pool(connector, {4, milliseconds(60000)});
  {
    auto first = pool.connect("db1", milliseconds(2000));
    first->query("SELECT 1");
  }
  { auto second = pool.connect("db1", milliseconds(2000)); }
  CHECK(connector.connects == 1);
  // Another lock timeout or another database is another session.
  { auto other_timeout = pool.connect("db1", milliseconds(5000)); }
  { auto other_database = pool.connect("db2", milliseconds(2000)); }
  CHECK(connector.connects == 3);
  CHECK(pool.open_sessions() == 3);
}

TEST_CASE("session pool: a session that failed with a connection error is closed, not reused") {
  CountingConnector connector;
  SessionPool pool(connector, {4, milliseconds(60000)});
  const StatementLimits limits{milliseconds(1000), milliseconds(1000)};
  {
    auto session = pool.connect("db1", milliseconds(2000));
    CHECK_THROWS_AS(session->run_transaction({"BROKEN"}, limits, std::nullopt, {}), DatabaseError);
  }
  CHECK(connector.alive == 0);
  {
    // An ordinary error (here a statement timeout) leaves a transaction's session usable ...
    auto session = pool.connect("db1", milliseconds(2000));
    CHECK_THROWS_AS(session->run_transaction({"SLOW"}, limits, std::nullopt, {}), DatabaseError);
  }
  CHECK(connector.alive == 1);
  {
    // ... but not an autocommit statement's, whose session settings may not be restored.
    auto session = pool.connect("db1", milliseconds(2000));
    CHECK_THROWS_AS(session->run_autocommit("SLOW", limits), DatabaseError);
  }
  CHECK(connector.alive == 0);
  connector.reusable = false;  // e.g. the server ended the connection while it was idle
  { auto session = pool.connect("db1", milliseconds(2000)); }
  { auto session = pool.connect("db1", milliseconds(2000)); }
  CHECK(connector.connects == 4);
  CHECK(connector.alive == 0);
  CHECK(pool.open_sessions() == 0);
}

TEST_CASE("session pool: at most max_per_database sessions of a DSN, a further one waits") {
  CountingConnector connector;
  SessionPool pool(connector, {2, milliseconds(60000)});
  auto first = pool.connect("db1", milliseconds(2000));
  auto second = pool.connect("db1", milliseconds(2000));
  auto third =
      std::async(std::launch::async, [&] { return pool.connect("db1", milliseconds(2000)); });
  CHECK(third.wait_for(milliseconds(200)) == std::future_status::timeout);
  // Another database is not held up.
  { auto elsewhere = pool.connect("db2", milliseconds(2000)); }
  first.reset();
  CHECK(third.wait_for(milliseconds(2000)) == std::future_status::ready);
  auto got = third.get();
  CHECK(connector.connects == 3);  // db1 twice, db2 once: the third reused the first's
  CHECK(pool.open_sessions() == 3);
}

TEST_CASE("session pool: a refused connection frees its slot") {
  CountingConnector connector;
  SessionPool pool(connector, {1, milliseconds(60000)});
  CHECK_THROWS_AS(pool.connect("unreachable", milliseconds(2000)), DatabaseError);
  CHECK_THROWS_AS(pool.connect("unreachable", milliseconds(2000)), DatabaseError);
  CHECK(pool.open_sessions() == 0);
}

TEST_CASE("session pool: idle sessions are closed after the idle timeout") {
  CountingConnector connector;
  SessionPool pool(connector, {4, milliseconds(150)});
  { auto session = pool.connect("db1", milliseconds(2000)); }
  CHECK(connector.alive == 1);
  for (int i = 0; i < 100 && connector.alive > 0; ++i)
    std::this_thread::sleep_for(milliseconds(20));
  CHECK(connector.alive == 0);
  CHECK(pool.open_sessions() == 0);
}

TEST_CASE("session pool: beyond max_idle_total idle sessions, the one idle longest is closed") {
  CountingConnector connector;
  SessionPool pool(connector, {4, milliseconds(60000), 2});
  { auto session = pool.connect("db1", milliseconds(2000)); }
  std::this_thread::sleep_for(milliseconds(2));
  { auto session = pool.connect("db2", milliseconds(2000)); }
  CHECK(connector.alive == 2);
  std::this_thread::sleep_for(milliseconds(2));
  { auto session = pool.connect("db3", milliseconds(2000)); }
  // Three databases, two idle sessions kept: db1's, idle longest, was closed.
  CHECK(connector.alive == 2);
  CHECK(pool.open_sessions() == 2);
  { auto session = pool.connect("db3", milliseconds(2000)); }
  { auto session = pool.connect("db2", milliseconds(2000)); }
  CHECK(connector.connects == 3);
  { auto session = pool.connect("db1", milliseconds(2000)); }
  CHECK(connector.connects == 4);
  CHECK(connector.alive == 2);
}

}  // namespace partop
