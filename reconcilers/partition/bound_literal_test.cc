#include "reconcilers/partition/bound_literal.h"

#include <doctest/doctest.h>

namespace partop {

TEST_CASE("bound literals: integers and UTC times as pg_get_expr prints them") {
  const auto down = [](std::string_view text) {
    return key_of_bound_literal(text, BoundRounding::kDown);
  };
  const auto up = [](std::string_view text) {
    return key_of_bound_literal(text, BoundRounding::kUp);
  };
  CHECK(down("0") == 0);
  CHECK(down("1000000") == 1000000);
  CHECK(down("'-42'") == -42);
  CHECK(down("9223372036854775807") == INT64_MAX);
  CHECK_FALSE(down("9223372036854775808").has_value());  // past bigint: the server decides
  CHECK(down("'2024-06-14'") == 1718323200);
  CHECK(down("'2024-06-14 00:00:00'") == 1718323200);
  CHECK(down("'2024-06-14 00:00:00+00'") == 1718323200);
  CHECK(down("'2024-02-29 13:45:07+00'") == 1709214307);
  CHECK(down("'1969-12-31 23:59:59+00'") == -1);
  CHECK(down("'0001-01-01'") == -62135596800);
  CHECK(down("'9999-12-31 23:59:59+00'") == 253402300799);
  // Fractions: down for a lower bound, up for an upper one.
  CHECK(down("'2024-06-14 00:00:00.5+00'") == 1718323200);
  CHECK(up("'2024-06-14 00:00:00.5+00'") == 1718323201);
  CHECK(up("'2024-06-14 00:00:00.000001'") == 1718323201);
  CHECK(up("'2024-06-14 00:00:00+00'") == 1718323200);
  // Not read here: the server converts them.
  for (const char* other :
       {"'2024-06-14 00:00:00+02'", "'2024-06-14 00:00:00-07:30'", "'0044-03-15 BC'", "'infinity'",
        "'-infinity'", "'12024-01-01'", "'2023-02-29'", "'2024-13-01'", "'2024-06-14 24:00:00+00'",
        "'2024-06-14T00:00:00Z'", "'2024-06-14 00:00:00.1234567'", "'2024-06-14 00:00:00.'",
        "MINVALUE", "''", "'-'", "", "1e3", "'06/14/2024'"}) {
    CAPTURE(other);
    CHECK_FALSE(down(other).has_value());
  }
}

}  // namespace partop
