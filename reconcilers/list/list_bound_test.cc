#include "reconcilers/list/list_bound.h"

#include <doctest/doctest.h>

namespace partop {

TEST_CASE("list bounds as PostgreSQL 15 prints them") {
  // The forms were taken from pg_get_expr(relpartbound, 0) on text, integer, bigint and uuid keys.
  CHECK(parse_list_bound("FOR VALUES IN ('acme', 'it''s, odd', NULL)") ==
        ListBoundValues{"acme", "it's, odd", std::nullopt});
  CHECK(parse_list_bound("FOR VALUES IN (1, '-2', 30)") == ListBoundValues{"1", "-2", "30"});
  CHECK(parse_list_bound("FOR VALUES IN ('9000000000')") == ListBoundValues{"9000000000"});
  CHECK(parse_list_bound("FOR VALUES IN ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')") ==
        ListBoundValues{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"});
  CHECK(parse_list_bound("FOR VALUES IN ('')") == ListBoundValues{""});
  CHECK(parse_list_bound("FOR VALUES IN ('a)b', ', ')") == ListBoundValues{"a)b", ", "});
}

TEST_CASE("anything else is not a list bound") {
  CHECK_FALSE(parse_list_bound("DEFAULT"));
  CHECK_FALSE(parse_list_bound("FOR VALUES FROM ('2026-01-01') TO ('2026-01-02')"));
  CHECK_FALSE(parse_list_bound("FOR VALUES IN ()"));
  CHECK_FALSE(parse_list_bound("FOR VALUES IN ('open)"));
  CHECK_FALSE(parse_list_bound("FOR VALUES IN ('a' 'b')"));
  CHECK_FALSE(parse_list_bound("FOR VALUES IN (a)"));
  CHECK_FALSE(parse_list_bound("FOR VALUES IN (1,2)"));
  CHECK_FALSE(parse_list_bound(""));
}

}  // namespace partop
