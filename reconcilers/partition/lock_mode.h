// PostgreSQL table-level lock modes and their conflict table, used by the lock guard to decide,
// before taking a lock, whether another session already holds one that would make partop queue.
#pragma once

#include <optional>
#include <string_view>

namespace partop {

enum class LockMode {
  kAccessShare,
  kRowShare,
  kRowExclusive,
  kShareUpdateExclusive,
  kShare,
  kShareRowExclusive,
  kExclusive,
  kAccessExclusive,
};

// True when a lock in mode `a` cannot be granted while another session holds `b` (symmetric).
bool lock_modes_conflict(LockMode a, LockMode b);

// Parses pg_locks.mode ("AccessShareLock", ...).
std::optional<LockMode> lock_mode_from_pg(std::string_view pg_locks_mode);
std::string_view lock_mode_name(LockMode mode);  // "ACCESS EXCLUSIVE"

}  // namespace partop
