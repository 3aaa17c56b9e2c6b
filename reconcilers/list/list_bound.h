// The values of a list partition's bound as PostgreSQL prints it (pg_get_expr of relpartbound):
// "FOR VALUES IN ('acme', 'it''s', 7, NULL)". Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace partop {

// Each value's text (a quoted literal unquoted, a bare number as written); nullopt for NULL.
using ListBoundValues = std::vector<std::optional<std::string>>;

// nullopt when `bound` is not a list bound in that form (DEFAULT, a range bound, garbage).
std::optional<ListBoundValues> parse_list_bound(std::string_view bound);

}  // namespace partop
