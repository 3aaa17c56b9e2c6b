// Partial index predicates: what the grammar accepts, how it is rendered, what it refuses, and
// that PostgreSQL's printing of a predicate compares equal to partop's rendering of it.
#include "reconcilers/partition/index_predicate.h"

#include <doctest/doctest.h>

namespace partop {
namespace {

std::string rendered(const std::string& text) {
  std::string error;
  const auto predicate = parse_index_predicate(text, error);
  REQUIRE_MESSAGE(predicate.has_value(), error);
  return predicate->sql;
}

std::string refusal(const std::string& text) {
  std::string error;
  CHECK_FALSE(parse_index_predicate(text, error).has_value());
  return error;
}

}  // namespace

TEST_CASE("index predicate: columns are quoted, keywords and operators normalised") {
  CHECK(rendered("deleted_at is null") == R"("deleted_at" IS NULL)");
  CHECK(rendered("status = 'pending' AND NOT archived") ==
        R"("status" = 'pending' AND NOT "archived")");
  CHECK(rendered("(amount>100 or amount != -1.5) and flag is not true") ==
        R"(("amount" > 100 OR "amount" <> -1.5) AND "flag" IS NOT TRUE)");
  CHECK(rendered("note = 'it''s'") == R"("note" = 'it''s')");
  CHECK(rendered(R"("Mixed" >= 0)") == R"("Mixed" >= 0)");
  std::string error;
  CHECK(parse_index_predicate("a = b OR c IS NULL OR a > 1", error)->columns ==
        std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("index predicate: anything outside the grammar is refused with its position") {
  CHECK(refusal("lower(email) = 'x'").find("'(' at position 6") != std::string::npos);
  CHECK(refusal("a = 1; DROP TABLE t").find("';' at position 6") != std::string::npos);
  CHECK(refusal("a = 1 -- comment").find("position 7") != std::string::npos);
  CHECK(refusal("a::text = 'x'").find("':'") != std::string::npos);
  CHECK(refusal("a IS 1").find("expected NULL, TRUE or FALSE") != std::string::npos);
  CHECK(refusal("(a = 1").find("expected ')'") != std::string::npos);
  CHECK(refusal("status = 'open").find("unterminated string") != std::string::npos);
  CHECK(refusal("a IN (SELECT 1)").find("unexpected 'IN' at position 3") != std::string::npos);
  CHECK(refusal("").find("end of text") != std::string::npos);
}

TEST_CASE("index predicate: PostgreSQL's printing compares equal to partop's rendering") {
  auto same = [](const std::string& declared, const std::string& printed) {
    return comparable_predicate(rendered(declared)) == comparable_predicate(printed);
  };
  CHECK(same("deleted_at IS NULL", "(deleted_at IS NULL)"));
  CHECK(same("status = 'pending'", "((status)::text = 'pending'::text)"));
  CHECK(same("amount > -1", "(amount > '-1'::integer)"));
  CHECK(same("a = 'x' OR b <> 2", "((a = 'x'::character varying) OR (b <> 2))"));
  CHECK(same("seen_at > '2026-01-01 00:00:00+00'",
             "(seen_at > '2026-01-01 00:00:00+00'::timestamp with time zone)"));
  CHECK_FALSE(same("status = 'pending'", "(status = 'done'::text)"));
  CHECK_FALSE(same("a > 1", ""));
  CHECK(comparable_predicate("") == comparable_predicate(""));
}

}  // namespace partop
