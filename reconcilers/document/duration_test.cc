#include "reconcilers/document/duration.h"

#include <doctest/doctest.h>

using namespace std::chrono_literals;

namespace partop {

TEST_CASE("parse_duration accepts Go-style terms") {
  CHECK(parse_duration("300ms") == 300ms);
  CHECK(parse_duration("2s") == 2s);
  CHECK(parse_duration("5m") == 5min);
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("0") == 0ms);
}

TEST_CASE("parse_duration rejects malformed text") {
  for (const char* bad :
       {"", "2", "s", "-1s", "2 s", "1d", "1..5s", "2sec", "99999999999999999h"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("format_duration prints like Go") {
  CHECK(format_duration(0ms) == "0s");
  CHECK(format_duration(300ms) == "300ms");
  CHECK(format_duration(2s) == "2s");
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(90min) == "1h30m0s");
  CHECK(format_duration(10min) == "10m0s");
}

}  // namespace partop
