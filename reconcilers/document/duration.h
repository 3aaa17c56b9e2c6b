// Go-style durations ("300ms", "2s", "1h30m") as used in PartitionPolicy guards and schedules.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace partop {

// Parses a Go-style duration: one or more <number><unit> terms, units ns, us, ms, s, m, h.
// Returns nullopt for anything else (empty, negative, missing unit, overflow).
// Precision is milliseconds; sub-millisecond terms are truncated.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Renders a duration the way Go prints it for whole milliseconds ("1h30m0s", "300ms", "0s").
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace partop
