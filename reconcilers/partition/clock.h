// The time source of partop: injected so that planning, scheduling, backoff and lease expiry can
// be tested at any instant with a fake. Wall-clock time (now) dates partitions and timestamps;
// monotonic time (monotonic_now) measures delays and expiries, immune to clock steps.
#pragma once

#include <chrono>

namespace partop {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  virtual std::chrono::steady_clock::time_point monotonic_now() const = 0;
};

class SystemClock : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point monotonic_now() const override {
    return std::chrono::steady_clock::now();
  }
};

// The process-wide real clock, for wiring.
inline const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace partop
