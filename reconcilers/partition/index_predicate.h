// The WHERE clause of a partial index, as a policy declares it. A predicate is SQL that partop
// sends, so it is never passed through as written: it is parsed against a small grammar —
// column names, literals (numbers, 'strings', TRUE, FALSE, NULL), comparisons (= <> != < <= > >=),
// IS [NOT] NULL / TRUE / FALSE, AND, OR, NOT and parentheses — and rendered again with every
// column double-quoted. Anything else (function calls, casts, subqueries, comments, a ';') is
// refused with the position of the first token that is not understood.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reconcilers/partition/catalog.h"

namespace partop {

struct IndexPredicate {
  std::string sql;                   // canonical rendering, columns quoted
  std::vector<std::string> columns;  // the columns it names, in order of first use
};

// The parsed predicate, or nullopt with `error` set to a message for the field.
std::optional<IndexPredicate> parse_index_predicate(const std::string& text, std::string& error);

// A form of a predicate in which PostgreSQL's rendering (pg_get_expr of pg_index.indpred: added
// parentheses, casts such as ::text, quoting only where needed) and partop's rendering of the
// same declaration compare equal. Literals are compared as written: a literal PostgreSQL
// rewrites (a timestamp) must be declared as PostgreSQL prints it.
std::string comparable_predicate(const std::string& sql);

// True when an index found on a parent is the one `wanted` declares: same key columns, INCLUDE
// columns, uniqueness, method and (comparable) predicate.
bool declared_index_matches(const ObservedParentIndex& observed, const IndexSpec& wanted);

}  // namespace partop
