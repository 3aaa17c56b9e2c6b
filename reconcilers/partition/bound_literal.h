// A range partition's bound as pg_get_expr() prints it, read as the int64 key partop plans with,
// without asking the server to convert it. partop's sessions print times in UTC with DateStyle
// ISO, so a time bound is 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.ffffff]' or the same with '+00';
// its key is the epoch second of that UTC instant (a date or a timestamp without time zone
// names the UTC instant its key value is). An integer bound prints bare, or quoted when
// negative. Any other text (BC, infinity, years past 9999, another offset) is not read here:
// the caller asks the server (floor(extract(epoch ...)), as partop always did).
#pragma once

#include <optional>
#include <string_view>

#include "reconcilers/partition/key_space.h"

namespace partop {

// Fractional seconds round down for a lower bound and up for an upper one, so that a cell is
// never taken as covered by a partition that misses a part of it.
enum class BoundRounding { kDown, kUp };

std::optional<KeyValue> key_of_bound_literal(std::string_view literal, BoundRounding rounding);

}  // namespace partop
