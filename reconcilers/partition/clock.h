// The time source of the engine: injected so that planning and scheduling can be tested at any
// instant.
#pragma once

#include <chrono>

namespace partop {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
};

class SystemClock : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace partop
