// A Clock that moves only when a test says so. Thread-safe: workers may read it while the test
// advances it.
#pragma once

#include <atomic>
#include <chrono>

#include "reconcilers/partition/clock.h"

namespace partop::testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start =
                         std::chrono::system_clock::time_point(std::chrono::seconds(1800000000)))
      : wall_(start.time_since_epoch().count()) {}

  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::system_clock::duration(wall_.load()));
  }
  std::chrono::steady_clock::time_point monotonic_now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(mono_.load()));
  }
  template <typename Duration>
  void advance(Duration by) {
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(by).count();
    mono_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(by).count();
  }

 private:
  std::atomic<std::chrono::system_clock::rep> wall_;
  std::atomic<std::chrono::steady_clock::rep> mono_{0};
};

}  // namespace partop::testing
