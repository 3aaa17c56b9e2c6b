// The libpqxx session against a real server: settings that travel in the startup packet, and
// batches of statements in one round trip.
#include <doctest/doctest.h>

#include "reconcilers/partition/pg_session.h"
#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

std::string show(DatabaseSession& session, const std::string& setting) {
  return text_or_empty(session.query("SELECT current_setting($1)", {setting}).at(0).at(0));
}

}  // namespace

TEST_CASE("a session's settings come with the connection, after the DSN's own options") {
  TestDatabase db;
  // A URI with options of its own: they are kept, partop's come after them.
  auto session = open_pg_session(db.dsn() + "?options=-c%20statement_timeout%3D4321",
                                 std::chrono::milliseconds(1234));
  CHECK(show(*session, "lock_timeout") == "1234ms");
  CHECK(show(*session, "TimeZone") == "UTC");
  CHECK(show(*session, "DateStyle").rfind("ISO,", 0) == 0);
  CHECK(show(*session, "application_name") == "partop");
  CHECK(show(*session, "statement_timeout") == "4321ms");

  // key=value form, with a value that needs quoting.
  const std::string key_value =
      conninfo_with_settings(db.dsn(), "it's partop", {{"search_path", "public, pg_catalog"}});
  auto quoted = open_pg_session(key_value);
  CHECK(show(*quoted, "application_name") == "partop");  // open_pg_session's own name wins
  CHECK(show(*quoted, "search_path") == "public, pg_catalog");
  CHECK(show(*quoted, "lock_timeout") == "0");

  CHECK_THROWS_AS(open_pg_session("postgresql://user:secret@[bad"), DatabaseError);
  try {
    open_pg_session("postgresql://user:secret@[bad");
  } catch (const DatabaseError& error) {
    CHECK(error.sqlstate().empty());
    CHECK(std::string(error.what()).find("secret") == std::string::npos);
  }
}

TEST_CASE("a connection attempt is bounded unless the DSN or the environment bounds it") {
  const auto has = [](const std::string& conninfo, const std::string& part) {
    return conninfo.find(part) != std::string::npos;
  };
  CHECK(has(conninfo_with_settings("postgresql://db/app", "partop", {}), "connect_timeout=10 "));
  const std::string own = conninfo_with_settings("postgresql://db/app?connect_timeout=3", "p", {});
  CHECK(has(own, "connect_timeout='3'"));
  CHECK_FALSE(has(own, "connect_timeout=10"));
}

TEST_CASE("a batch returns each statement's rows in order and stops at the first error") {
  TestDatabase db;
  auto session = open_pg_session(db.dsn());
  db.exec("CREATE TABLE counted (n int); INSERT INTO counted SELECT generate_series(1, 3)");
  const std::vector<SqlRows> results = session->query_batch({{"SELECT n FROM counted ORDER BY n"},
                                                             {"SELECT 'a', NULL::text"},
                                                             {"SELECT FROM counted WHERE false"}});
  REQUIRE(results.size() == 3);
  CHECK(results[0].size() == 3);
  CHECK(results[0][2][0] == "3");
  CHECK(results[1][0][0] == "a");
  CHECK_FALSE(results[1][0][1].has_value());
  CHECK(results[2].empty());

  try {
    session->query_batch({{"SELECT 1"}, {"SELECT * FROM missing_table"}, {"SELECT 2"}});
    FAIL("the batch should have failed");
  } catch (const DatabaseError& error) {
    CHECK(error.sqlstate() == "42P01");
  }
  // The session goes on.
  CHECK(session->query_batch({{"SELECT 7"}})[0][0][0] == "7");
}

namespace {

// The session's statements that PostgreSQL knows as prepared, by text.
std::vector<std::string> prepared_texts(DatabaseSession& session) {
  std::vector<std::string> out;
  for (const auto& row : session.query("SELECT statement FROM pg_prepared_statements ORDER BY 1"))
    out.push_back(text_or_empty(row[0]));
  return out;
}

}  // namespace

TEST_CASE("statements with parameters are prepared once per session and bind any value") {
  TestDatabase db;
  auto session = open_pg_session(db.dsn());
  const std::string echo = "SELECT $1::text, $2::int + 1";
  for (const std::string value : {"plain", "it's", "back\\slash", "$$ dollar; -- not a comment"}) {
    const std::vector<SqlRows> results =
        session->query_batch({{echo, {value, "41"}}, {"SELECT $1::text IS NULL", {SqlValue{}}}});
    CHECK(results[0][0][0] == value);
    CHECK(results[0][0][1] == "42");
    CHECK(results[1][0][0] == "t");
  }
  CHECK(session->query(echo, {"one", "1"})[0][0] == "one");
  // One PREPARE each, whatever the values and however often they ran.
  CHECK(prepared_texts(*session).size() == 2);

  // A batch that fails leaves the session usable and its prepared statements accounted for: a
  // PREPARE that ran before the error is not made twice.
  const std::string fresh = "SELECT $1::int * 2";
  CHECK_THROWS_AS(session->query_batch({{fresh, {"3"}}, {"SELECT * FROM missing_table"}}),
                  DatabaseError);
  CHECK_THROWS_AS(session->query_batch({{fresh, {"not a number"}}}), DatabaseError);
  CHECK(session->query_batch({{fresh, {"4"}}, {echo, {"x", "0"}}})[0][0][0] == "8");
  CHECK(prepared_texts(*session).size() == 2);
}

TEST_CASE("a session that changed the catalog prepares its reads again, so their plans are new") {
  TestDatabase db;
  auto session = open_pg_session(db.dsn());
  const std::string read = "SELECT count(*) FROM pg_class WHERE relname = $1";
  // When the read was prepared ("" when it is not).
  const auto prepared_at = [&] {
    return text_or_empty(
        session->query("SELECT max(prepare_time) FROM pg_prepared_statements WHERE statement "
                       "LIKE '%pg_class WHERE relname%'")[0][0]);
  };
  CHECK(session->query(read, {"made_here"})[0][0] == "0");
  const std::string first = prepared_at();
  REQUIRE(!first.empty());
  // Reads alone keep their plans.
  CHECK(session->query(read, {"made_here"})[0][0] == "0");
  CHECK(prepared_at() == first);
  // After a transaction and after an autocommit statement of this session, the next run
  // prepares the read again.
  const StatementLimits limits{std::chrono::seconds(2), std::chrono::seconds(30)};
  session->run_transaction({"CREATE TABLE made_here (id int)"}, limits, std::nullopt, nullptr);
  CHECK(session->query(read, {"made_here"})[0][0] == "1");
  const std::string second = prepared_at();
  CHECK(second > first);
  session->run_autocommit("CREATE INDEX CONCURRENTLY made_here_id ON made_here (id)", limits);
  CHECK(session->query(read, {"made_here_id"})[0][0] == "1");
  CHECK(prepared_at() > second);
  CHECK(prepared_texts(*session).size() == 1);
}

TEST_CASE("a session's prepared statements are bounded") {
  TestDatabase db;
  auto session = open_pg_session(db.dsn());
  for (int i = 0; i < 200; ++i) {
    const std::string sql = "SELECT $1::int + " + std::to_string(i);
    CHECK(session->query(sql, {"1"})[0][0] == std::to_string(i + 1));
  }
  CHECK(prepared_texts(*session).size() <= 64);
}

}  // namespace partop::testing
