#include "reconcilers/partition/lock_mode.h"

#include <doctest/doctest.h>

namespace partop {

TEST_CASE("lock conflict table matches the PostgreSQL manual") {
  using M = LockMode;
  // A long report query (ACCESS SHARE) blocks only ACCESS EXCLUSIVE.
  CHECK(lock_modes_conflict(M::kAccessExclusive, M::kAccessShare));
  CHECK_FALSE(lock_modes_conflict(M::kShareUpdateExclusive, M::kAccessShare));
  // ATTACH (SHARE UPDATE EXCLUSIVE) runs beside inserts (ROW EXCLUSIVE) but not beside itself.
  CHECK_FALSE(lock_modes_conflict(M::kShareUpdateExclusive, M::kRowExclusive));
  CHECK(lock_modes_conflict(M::kShareUpdateExclusive, M::kShareUpdateExclusive));
  // CREATE INDEX (SHARE) blocks writers.
  CHECK(lock_modes_conflict(M::kShare, M::kRowExclusive));
  CHECK_FALSE(lock_modes_conflict(M::kShare, M::kShare));
  // EXCLUSIVE lets plain readers through.
  CHECK_FALSE(lock_modes_conflict(M::kExclusive, M::kAccessShare));
  CHECK(lock_modes_conflict(M::kExclusive, M::kRowShare));
  for (int a = 0; a < 8; ++a) {
    for (int b = 0; b < 8; ++b) {
      CHECK(lock_modes_conflict(M(a), M(b)) == lock_modes_conflict(M(b), M(a)));
    }
  }
}

TEST_CASE("pg_locks mode names parse") {
  CHECK(lock_mode_from_pg("AccessShareLock") == LockMode::kAccessShare);
  CHECK(lock_mode_from_pg("ShareUpdateExclusiveLock") == LockMode::kShareUpdateExclusive);
  CHECK_FALSE(lock_mode_from_pg("SIReadLock").has_value());
  CHECK(lock_mode_name(LockMode::kAccessExclusive) == "ACCESS EXCLUSIVE");
}

}  // namespace partop
