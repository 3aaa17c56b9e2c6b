#include "reconcilers/partition/sql_text.h"

#include <doctest/doctest.h>

#include <stdexcept>

namespace partop {

TEST_CASE("identifiers are always quoted and cannot break out") {
  CHECK(sql::identifier("events") == "\"events\"");
  CHECK(sql::identifier("Events") == "\"Events\"");
  CHECK(sql::identifier("a\"; DROP TABLE x; --") == "\"a\"\"; DROP TABLE x; --\"");
  CHECK(sql::qualified({"app", "events"}) == "\"app\".\"events\"");
  CHECK_THROWS_AS(sql::identifier(std::string("a\0b", 3)), std::invalid_argument);
}

TEST_CASE("literals double single quotes") {
  CHECK(sql::literal("public.events") == "'public.events'");
  CHECK(sql::literal("o'hara") == "'o''hara'");
}

}  // namespace partop
