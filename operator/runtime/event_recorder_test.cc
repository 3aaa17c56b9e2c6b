// Event aggregation against a fake API server and a fake clock: a repeat within ten minutes
// bumps the existing Event's count; a later one, or one whose Event is gone, creates a new Event.
#include "operator/runtime/event_recorder.h"

#include <doctest/doctest.h>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_kube_client.h"

namespace partop::runtime {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kEvents = "/api/v1/namespaces/app/events";

json policy_object() {
  return {{"apiVersion", "partop.dev/v1alpha1"},
          {"kind", "PartitionPolicy"},
          {"metadata", {{"name", "events"}, {"namespace", "app"}, {"uid", "u-1"}}}};
}

}  // namespace

TEST_CASE("events: repeats within ten minutes aggregate, later ones start a new Event") {
  testing::FakeKubeClient client;
  testing::FakeClock clock;
  EventRecorder events(client, "partop", "test", clock);
  events.record(policy_object(), "Warning", "LockTimeout", "pid 42 holds the table");
  clock.advance(9min);
  events.record(policy_object(), "Warning", "LockTimeout", "pid 42 holds the table");
  CHECK(client.count_requests(kube::Method::kPost, kEvents) == 1);
  CHECK(client.count_requests(kube::Method::kPatch, kEvents) == 1);
  const json listed = client.request(kube::Method::kGet, kEvents, std::nullopt, "").body;
  REQUIRE(listed["items"].size() == 1);
  CHECK(listed["items"][0]["count"] == 2);
  CHECK(listed["items"][0]["involvedObject"]["uid"] == "u-1");
  // Another message is another Event; eleven quiet minutes end the aggregation.
  events.record(policy_object(), "Warning", "LockTimeout", "pid 43 holds the table");
  clock.advance(11min);
  events.record(policy_object(), "Warning", "LockTimeout", "pid 42 holds the table");
  CHECK(client.count_requests(kube::Method::kPost, kEvents) == 3);
}

TEST_CASE("events: a repeat whose Event the server expired creates it again") {
  testing::FakeKubeClient client;
  testing::FakeClock clock;
  EventRecorder events(client, "partop", "test", clock);
  events.record(policy_object(), "Normal", "PartitionsCreated", "3 partition(s) created");
  const json listed = client.request(kube::Method::kGet, kEvents, std::nullopt, "").body;
  REQUIRE(listed["items"].size() == 1);
  client.delete_object(kEvents, listed["items"][0]["metadata"]["name"]);
  events.record(policy_object(), "Normal", "PartitionsCreated", "3 partition(s) created");
  CHECK(client.count_requests(kube::Method::kPost, kEvents) == 2);
}

}  // namespace partop::runtime
