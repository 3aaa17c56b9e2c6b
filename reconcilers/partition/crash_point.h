// Test-only crash points: when the environment variable PARTOP_CRASH_AT names a point (optionally
// "NAME#N" for its N-th occurrence), the process ends abruptly there with _exit(137), as a
// SIGKILL would, so the reliability suite can prove that a fresh run converges from any of them.
// Unset (as in production), a crash point does nothing.
#pragma once

#include <string_view>

namespace partop {

// Points used by the executor: "before-commit:<action-kind>" (every statement of the action ran,
// its transaction is not committed) and "after-commit:<action-kind>" (committed, nothing after it
// has run), e.g. "before-commit:drain-default", "after-commit:build-partition-index".
void crash_point(std::string_view name);

}  // namespace partop
