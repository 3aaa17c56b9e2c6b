#include "reconcilers/partition/lock_mode.h"

#include <array>

namespace partop {
namespace {

// Row i lists the modes that conflict with mode i, as in the PostgreSQL manual's table 13.2.
constexpr std::array<unsigned, 8> kConflicts = {
    0b10000000,  // ACCESS SHARE: ACCESS EXCLUSIVE
    0b11000000,  // ROW SHARE: EXCLUSIVE, ACCESS EXCLUSIVE
    0b11110000,  // ROW EXCLUSIVE: SHARE and above
    0b11111000,  // SHARE UPDATE EXCLUSIVE: itself and above
    0b11101100,  // SHARE: ROW EXCLUSIVE, SUE, SRE, EXCLUSIVE, AE
    0b11111100,  // SHARE ROW EXCLUSIVE: ROW EXCLUSIVE and above
    0b11111110,  // EXCLUSIVE: ROW SHARE and above
    0b11111111,  // ACCESS EXCLUSIVE: everything
};

constexpr std::array<std::string_view, 8> kPgNames = {
    "AccessShareLock", "RowShareLock",          "RowExclusiveLock", "ShareUpdateExclusiveLock",
    "ShareLock",       "ShareRowExclusiveLock", "ExclusiveLock",    "AccessExclusiveLock"};

constexpr std::array<std::string_view, 8> kSqlNames = {
    "ACCESS SHARE", "ROW SHARE",           "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE",
    "SHARE",        "SHARE ROW EXCLUSIVE", "EXCLUSIVE",     "ACCESS EXCLUSIVE"};

}  // namespace

bool lock_modes_conflict(LockMode a, LockMode b) {
  return (kConflicts[static_cast<unsigned>(a)] >> static_cast<unsigned>(b)) & 1U;
}

std::optional<LockMode> lock_mode_from_pg(std::string_view name) {
  for (unsigned i = 0; i < kPgNames.size(); ++i) {
    if (kPgNames[i] == name) return static_cast<LockMode>(i);
  }
  return std::nullopt;
}

std::string_view lock_mode_name(LockMode mode) {
  return kSqlNames[static_cast<unsigned>(mode)];
}

}  // namespace partop
