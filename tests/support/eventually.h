// Polls a condition that another thread makes true, for up to three seconds.
#pragma once

#include <chrono>
#include <thread>

namespace partop::testing {

template <typename Predicate>
bool eventually(Predicate predicate) {
  for (int i = 0; i < 300; ++i) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return predicate();
}

}  // namespace partop::testing
