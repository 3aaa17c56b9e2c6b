// Partition bounds against a real PostgreSQL: the keys partop reads from pg_get_expr's text
// (bound_literal.h) are the keys the server computes, whatever the database's own DateStyle and
// time zone; a bound partop does not read itself is asked of the server.
#include <doctest/doctest.h>

#include "reconcilers/partition/catalog_reader.h"
#include "reconcilers/partition/pg_session.h"
#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

struct Bounds {
  std::string key_type;
  std::vector<std::pair<std::string, std::string>> ranges;  // FROM, TO as SQL literals
};

}  // namespace

TEST_CASE("partition bounds read by partop equal the server's keys, with the server as fallback") {
  TestDatabase db;
  // Settings partop's sessions override: the text would differ under them.
  db.exec(
      "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET DateStyle = ''SQL, DMY''',"
      " current_database()); EXECUTE format('ALTER DATABASE %I SET TimeZone ="
      " ''America/St_Johns''', current_database()); END $$");
  const std::vector<Bounds> cases = {
      {"timestamptz",
       {{"MINVALUE", "'1969-12-31 23:59:59.25+00'"},
        {"'1969-12-31 23:59:59.25+00'", "'2024-02-29 13:45:07+05:30'"},
        {"'2024-02-29 13:45:07+05:30'", "'2024-03-01 00:00:00.000001+00'"},
        {"'2024-03-01 00:00:00.000001+00'", "'9999-12-31 23:59:59+00'"},
        {"'9999-12-31 23:59:59+00'", "MAXVALUE"}}},
      {"timestamp",
       {{"'0001-01-01 00:00:00'", "'2024-06-14 12:00:00.5'"},
        {"'2024-06-14 12:00:00.5'", "'2024-06-15'"}}},
      {"date", {{"'1900-02-28'", "'2000-02-29'"}, {"'2000-02-29'", "'2400-02-29'"}}},
      {"bigint",
       {{"MINVALUE", "-9223372036854775807"},
        {"-9223372036854775807", "-5"},
        {"-5", "0"},
        {"0", "9223372036854775807"}}},
      // A bound partop does not read itself (a BC date): all are asked of the server.
      {"timestamptz", {{"'0044-03-15 12:00:00+00 BC'", "'2024-01-01 00:00:00+00'"}}},
  };
  auto session = open_pg_session(db.dsn());
  for (size_t i = 0; i < cases.size(); ++i) {
    const Bounds& bounds = cases[i];
    CAPTURE(bounds.key_type);
    const std::string table = "t" + std::to_string(i);
    db.exec("CREATE TABLE " + table + " (k " + bounds.key_type +
            " NOT NULL) PARTITION BY RANGE (k)");
    for (size_t p = 0; p < bounds.ranges.size(); ++p) {
      db.exec("CREATE TABLE " + table + "_" + std::to_string(p) + " PARTITION OF " + table +
              " FOR VALUES FROM (" + bounds.ranges[p].first + ") TO (" + bounds.ranges[p].second +
              ")");
    }
    const Policy policy = make_policy("  table: " + table + "\n  interval: " +
                                      (bounds.key_type == "bigint" ? "1000" : "daily") + "\n");
    const ObservedTable observed = read_table(*session, policy.spec);
    REQUIRE(observed.key_type.has_value());
    const std::vector<ObservedPartition> by_server =
        read_partitions(*session, policy.spec.table, *observed.key_type);
    REQUIRE(observed.partitions.size() == bounds.ranges.size());
    REQUIRE(by_server.size() == bounds.ranges.size());
    for (size_t p = 0; p < by_server.size(); ++p) {
      CAPTURE(observed.partitions[p].name.name);
      CHECK(observed.partitions[p].name == by_server[p].name);
      CHECK(observed.partitions[p].lower == by_server[p].lower);
      CHECK(observed.partitions[p].upper == by_server[p].upper);
    }
  }
  // Spot checks of the server's own figures: fractions round down below and up above.
  const auto first = read_table(*session, make_policy("  table: t0\n  interval: daily\n").spec);
  CHECK(first.partitions[0].lower == kUnboundedBelow);
  CHECK(first.partitions[0].upper == 0);
  CHECK(first.partitions[1].lower == -1);
  CHECK(first.partitions[1].upper == 1709194507);  // 13:45:07 at +05:30 is 08:15:07 UTC
}

}  // namespace partop::testing
