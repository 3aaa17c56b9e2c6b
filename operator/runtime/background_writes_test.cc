#include "operator/runtime/background_writes.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace partop::runtime {

TEST_CASE(
    "background writes run in order, and a waiting write of a key is replaced by a newer one") {
  std::vector<std::string> done;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  BackgroundWrites writes(1);
  writes.submit("", [&, released] {
    released.wait();  // holds the thread so that the writes below wait
    done.push_back("first");
  });
  writes.submit("map/a", [&] { done.push_back("a1"); });
  writes.submit("", [&] { done.push_back("event"); });
  writes.submit("map/a", [&] { done.push_back("a2"); });
  writes.submit("map/b", [&] { done.push_back("b"); });
  release.set_value();
  writes.flush();
  CHECK(done == std::vector<std::string>{"first", "a2", "event", "b"});
}

TEST_CASE("background writes: what was submitted runs before the destructor returns") {
  std::atomic<int> runs{0};
  {
    BackgroundWrites writes;
    for (int i = 0; i < 50; ++i) writes.submit("", [&] { ++runs; });
  }
  CHECK(runs == 50);
}

TEST_CASE("background writes: a backlog longer than the shutdown grace is dropped") {
  std::atomic<int> runs{0};
  const auto started = std::chrono::steady_clock::now();
  {
    BackgroundWrites writes(1);
    for (int i = 0; i < 100; ++i) {
      writes.submit("", [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ++runs;
      });
    }
  }
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(runs < 100);
  CHECK(took < BackgroundWrites::kShutdownGrace + std::chrono::seconds(1));
}

TEST_CASE("background writes: several writers, but one key's writes never overlap") {
  std::atomic<int> writing_a{0};
  std::atomic<bool> overlapped{false};
  std::atomic<int> runs{0};
  {
    BackgroundWrites writes(4);
    for (int i = 0; i < 40; ++i) {
      writes.submit(i % 2 == 0 ? "" : "map/a", [&, i] {
        if (i % 2 == 1 && writing_a.fetch_add(1) > 0) overlapped = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        if (i % 2 == 1) writing_a.fetch_sub(1);
        ++runs;
      });
    }
    writes.flush();
  }
  CHECK_FALSE(overlapped);
  CHECK(runs >= 21);  // every unkeyed write, and at least one of map/a's
}

}  // namespace partop::runtime
