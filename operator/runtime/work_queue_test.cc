#include "operator/runtime/work_queue.h"

#include <doctest/doctest.h>

#include <thread>

#include "tests/support/fake_clock.h"

namespace partop::runtime {

using namespace std::chrono_literals;

TEST_CASE("keys are deduplicated while queued") {
  WorkQueue queue;
  queue.add("a");
  queue.add("a");
  queue.add("b");
  CHECK(queue.depth() == 2);
  CHECK(queue.get() == "a");
  CHECK(queue.get() == "b");
  CHECK(queue.adds() == 2);
}

TEST_CASE("a key is never handed out twice at once, an add while processing requeues it") {
  WorkQueue queue;
  queue.add("a");
  REQUIRE(queue.get() == "a");
  queue.add("a");
  CHECK(queue.depth() == 0);  // dirty, not queued, while processing
  queue.done("a");
  CHECK(queue.depth() == 1);
  CHECK(queue.get() == "a");
  queue.done("a");
  CHECK(queue.depth() == 0);
}

TEST_CASE("add_after delays, the earliest request wins") {
  WorkQueue queue;
  const auto start = std::chrono::steady_clock::now();
  queue.add_after("a", 200ms);
  queue.add_after("a", 50ms);
  CHECK(queue.depth() == 0);
  CHECK(queue.get() == "a");
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= 50ms);
  CHECK(waited < 190ms);
}

TEST_CASE("rate-limited adds back off exponentially until forgotten") {
  WorkQueue queue;
  const BackoffPolicy backoff{10ms, 40ms};
  // Measured from before the add: the delay is counted from the add's own reading of the clock.
  auto start = std::chrono::steady_clock::now();
  auto get_since_start = [&] {
    auto key = queue.get();
    queue.done(*key);
    return std::chrono::steady_clock::now() - start;
  };
  start = std::chrono::steady_clock::now();
  queue.add_rate_limited("a", backoff);
  CHECK(get_since_start() >= 10ms);
  start = std::chrono::steady_clock::now();
  queue.add_rate_limited("a", backoff);
  CHECK(get_since_start() >= 20ms);
  start = std::chrono::steady_clock::now();
  queue.add_rate_limited("a", backoff);
  queue.add_rate_limited("a", backoff);  // capped at max
  CHECK(get_since_start() >= 40ms);
  CHECK(queue.failures("a") == 4);
  CHECK(queue.retries() == 4);
  queue.forget("a");
  CHECK(queue.failures("a") == 0);
}

TEST_CASE("due times follow the injected clock: short and long backoff policies on one queue") {
  testing::FakeClock clock;
  WorkQueue queue(clock);
  const auto start = clock.monotonic_now();
  const BackoffPolicy guard{250ms, 1s};
  const BackoffPolicy error{1s, 300s};
  CHECK(queue.add_rate_limited("a", guard) == 250ms);
  CHECK(queue.due("a") == start + 250ms);
  clock.advance(250ms);
  REQUIRE(queue.get() == "a");
  queue.done("a");
  CHECK(queue.add_rate_limited("a", guard) == 500ms);
  clock.advance(500ms);
  REQUIRE(queue.get() == "a");
  queue.done("a");
  CHECK(queue.add_rate_limited("a", guard) == 1000ms);
  clock.advance(1s);
  REQUIRE(queue.get() == "a");
  queue.done("a");
  CHECK(queue.add_rate_limited("a", guard) == 1000ms);  // the guard cap
  CHECK(queue.add_rate_limited("b", error) == 1s);
  CHECK(queue.failures("a") == 4);
  queue.forget("a");
  CHECK(queue.failures("a") == 0);
  CHECK(queue.depth() == 0);  // nothing is due until the clock moves
}

TEST_CASE("shut_down wakes blocked workers") {
  WorkQueue queue;
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = queue.get(); });
  std::this_thread::sleep_for(20ms);
  queue.shut_down();
  worker.join();
  CHECK_FALSE(got.has_value());
  queue.add("late");
  CHECK(queue.depth() == 0);
}

}  // namespace partop::runtime
