// WorkStop's answers with a fake clock and an in-memory cache: the manager's reason first, then the
// object's deletion or replacement, then the end of a slice — never before the first step.
#include "operator/controller/work_stop.h"

#include <doctest/doctest.h>

#include "tests/support/fake_clock.h"
#include "tests/support/memory_store.h"

namespace partop::controller {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json object(const std::string& uid) {
  return {{"metadata", {{"name", "events"}, {"namespace", "app"}, {"uid", uid}}}};
}

}  // namespace

TEST_CASE("work stop: a deleted or replaced object stops the work, a present one does not") {
  testing::MemoryStore objects;
  testing::FakeClock clock;
  objects.put(object("one"));
  const WorkStop stop(objects, object("one"), runtime::StopReason{}, clock);
  const StopRequested requested = stop.requested();
  CHECK_FALSE(requested());
  CHECK(stop.reason().empty());
  objects.put(object("two"));  // deleted and created again under the same name
  CHECK(stop.reason() == "object replaced");
  objects.erase("app/events");
  CHECK(requested());
  CHECK(stop.reason() == "object deleted");
}

TEST_CASE("work stop: the manager's reason comes first") {
  testing::MemoryStore objects;
  testing::FakeClock clock;
  std::string why;
  const WorkStop stop(
      objects, object("one"), [&] { return why; }, clock);
  why = "leadership lost";
  CHECK(stop.reason() == "leadership lost");
  CHECK(stop.stopped("partitionpolicy"));
}

TEST_CASE("work stop: a slice ends the work after its first step, never before") {
  testing::MemoryStore objects;
  testing::FakeClock clock;
  objects.put(object("one"));
  const WorkStop stop(objects, object("one"), runtime::StopReason{}, clock, 5000ms);
  const StopRequested requested = stop.requested();
  clock.advance(10s);        // a slow first read used the whole slice
  CHECK_FALSE(requested());  // the first step runs all the same
  CHECK(requested());
  CHECK(stop.slice_ended());
  CHECK(stop.reason().empty());  // not a stop the reconcile must keep quiet about
}

}  // namespace partop::controller
