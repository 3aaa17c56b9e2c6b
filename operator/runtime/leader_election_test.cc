// Leader election against a fake API server and fake clocks: acquire, renew, lose, release.
#include "operator/runtime/leader_election.h"

#include <doctest/doctest.h>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_kube_client.h"

namespace partop::runtime {
namespace {

using testing::FakeClock;
using testing::FakeKubeClient;
using namespace std::chrono_literals;

const std::string kLeases = "/apis/coordination.k8s.io/v1/namespaces/ops/leases/partop-leader";

LeaderElectionConfig config_for(const std::string& identity) {
  LeaderElectionConfig config;
  config.lease_namespace = "ops";
  config.identity = identity;
  return config;
}

// A candidate with its own clock, counting its transitions.
struct Candidate {
  Candidate(FakeKubeClient& client, const std::string& identity)
      : elector(client, config_for(identity), clock) {}
  void tick() {
    elector.tick([this] { ++started; }, [this] { ++stopped; });
  }
  FakeClock clock;
  LeaderElector elector;
  int started = 0;
  int stopped = 0;
};

std::string holder(FakeKubeClient& client) {
  return client.request(kube::Method::kGet, kLeases, std::nullopt, "application/json")
      .body["spec"]
      .value("holderIdentity", "");
}

}  // namespace

TEST_CASE("leader election: the first candidate creates the Lease and renews it") {
  FakeKubeClient client;
  Candidate a(client, "a");
  a.tick();
  CHECK(a.elector.is_leader());
  CHECK(a.started == 1);
  CHECK(holder(client) == "a");
  a.clock.advance(2s);
  a.tick();
  CHECK(a.started == 1);  // still the same term
  CHECK(client.count_requests(kube::Method::kPut, kLeases) == 1);
}

TEST_CASE("leader election: a standby waits for lease_duration of silence, then takes over") {
  FakeKubeClient client;
  Candidate a(client, "a");
  Candidate b(client, "b");
  a.tick();
  b.tick();
  CHECK_FALSE(b.elector.is_leader());
  // a keeps renewing: b never takes over, however long it waits.
  for (int i = 0; i < 10; ++i) {
    a.clock.advance(2s);
    b.clock.advance(2s);
    a.tick();
    b.tick();
  }
  CHECK_FALSE(b.elector.is_leader());
  // a falls silent: b takes over once 15 s have passed since it last saw the record change.
  b.clock.advance(14s);
  b.tick();
  CHECK_FALSE(b.elector.is_leader());
  b.clock.advance(2s);
  b.tick();
  CHECK(b.elector.is_leader());
  CHECK(holder(client) == "b");
  // a comes back: it finds the Lease held by b and stops leading at once, within its own renew
  // deadline — acting on would make two leaders.
  a.clock.advance(5s);
  a.tick();
  CHECK_FALSE(a.elector.is_leader());
  CHECK(a.stopped == 1);
}

TEST_CASE("leader election: a leader that cannot reach the API stops after the renew deadline") {
  FakeKubeClient client;
  Candidate a(client, "a");
  a.tick();
  client.fail_requests("/apis/coordination.k8s.io", 503);
  a.clock.advance(8s);
  a.tick();
  CHECK(a.elector.is_leader());  // within the renew deadline: it may still hold the Lease
  a.clock.advance(3s);
  a.tick();
  CHECK_FALSE(a.elector.is_leader());
  CHECK(a.stopped == 1);
}

TEST_CASE("leader election: release hands the Lease over at once") {
  FakeKubeClient client;
  Candidate a(client, "a");
  Candidate b(client, "b");
  a.tick();
  b.tick();
  a.elector.release();
  CHECK(holder(client).empty());
  b.tick();
  CHECK(b.elector.is_leader());
}

TEST_CASE("leader election: an API error is not leadership") {
  FakeKubeClient client;
  client.fail_requests("/apis/coordination.k8s.io", 503);
  Candidate a(client, "a");
  a.tick();
  CHECK_FALSE(a.elector.is_leader());
  client.fail_requests("/apis/coordination.k8s.io", 0);
  a.tick();
  CHECK(a.elector.is_leader());
}

}  // namespace partop::runtime
