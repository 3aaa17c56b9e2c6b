#include "reconcilers/partition/crash_point.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace partop {
namespace {

struct Target {
  std::string name;
  int occurrence = 1;
};

const Target* target() {
  static const Target* const parsed = []() -> const Target* {
    const char* value = std::getenv("PARTOP_CRASH_AT");
    if (value == nullptr || *value == '\0') return nullptr;
    static Target target;
    target.name = value;
    if (const auto hash = target.name.find('#'); hash != std::string::npos) {
      target.occurrence = std::atoi(target.name.c_str() + hash + 1);
      target.name.resize(hash);
    }
    return &target;
  }();
  return parsed;
}

}  // namespace

void crash_point(std::string_view name) {
  const Target* crash = target();
  if (crash == nullptr || crash->name != name) return;
  static std::atomic<int> seen{0};
  if (++seen < crash->occurrence) return;
  std::fprintf(stderr, "partop: crash point %s reached (PARTOP_CRASH_AT)\n", crash->name.c_str());
  std::fflush(stderr);
  ::_exit(137);
}

}  // namespace partop
