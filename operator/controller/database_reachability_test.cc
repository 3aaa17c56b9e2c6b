// DatabaseReachability with fakes at its seams: the policy and Secret caches and a connector
// whose databases are switched on and off. That a stopped PostgreSQL flips Ready policies is
// proved against the real server by e2e/scenarios/21_database_unreachable.sh.
#include "operator/controller/database_reachability.h"

#include <set>

#include <doctest/doctest.h>

#include "operator/controller/kube_policy_backend.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_database_session.h"
#include "tests/support/fake_kube_client.h"
#include "tests/support/memory_store.h"

namespace partop::controller {
namespace {

using nlohmann::json;

// A connector whose databases (by DSN) are reachable unless listed in `down`.
class SwitchedDatabases : public DatabaseConnector {
 public:
  std::unique_ptr<DatabaseSession> connect(const std::string& dsn,
                                           std::chrono::milliseconds) override {
    ++connects[dsn];
    if (down.count(dsn) > 0) throw DatabaseError("connection refused", "08001");
    return std::make_unique<testing::FakeDatabaseSession>();
  }
  std::set<std::string> down;
  std::map<std::string, int> connects;
};

json policy(const std::string& name, const std::string& secret) {
  return {
      {"apiVersion", "partop.dev/v1alpha1"},
      {"kind", "PartitionPolicy"},
      {"metadata", {{"name", name}, {"namespace", "app"}, {"generation", 1}}},
      {"spec",
       {{"table", "events"}, {"interval", "daily"}, {"databaseRef", {{"secretName", secret}}}}}};
}

// base64 of "postgresql://partop:pw@a/app" and "postgresql://partop:pw@b/app".
const std::string kDatabaseA = "cG9zdGdyZXNxbDovL3BhcnRvcDpwd0BhL2FwcA==";
const std::string kDatabaseB = "cG9zdGdyZXNxbDovL3BhcnRvcDpwd0BiL2FwcA==";

struct Fixture {
  Fixture() : backend(client, secrets, "test", clock) {
    secrets.put(
        {{"metadata", {{"name", "a"}, {"namespace", "app"}}}, {"data", {{"uri", kDatabaseA}}}});
    secrets.put(
        {{"metadata", {{"name", "b"}, {"namespace", "app"}}}, {"data", {{"uri", kDatabaseB}}}});
    policies.put(policy("one", "a"));
    policies.put(policy("two", "a"));
    policies.put(policy("three", "b"));
    reachability.add_handler([this](const std::string&, const json* answer) {
      for (const auto& key : policies_of_database(answer)) queued.push_back(key);
    });
  }
  testing::FakeKubeClient client;
  testing::MemoryStore policies;
  testing::MemoryStore secrets;
  testing::FakeClock clock;
  KubePolicyBackend backend;
  SwitchedDatabases databases;
  DatabaseReachability reachability{policies, backend, databases, std::chrono::seconds(60)};
  std::vector<std::string> queued;
};

}  // namespace

TEST_CASE("database reachability: one probe per database, policies queued only on a change") {
  Fixture f;
  f.reachability.probe_all();
  CHECK(f.queued.empty());  // all reachable at the first look: nothing to flip
  CHECK(f.databases.connects["postgresql://partop:pw@a/app"] == 1);  // shared by two policies
  CHECK(f.databases.connects["postgresql://partop:pw@b/app"] == 1);

  f.databases.down.insert("postgresql://partop:pw@a/app");
  f.reachability.probe_all();
  CHECK(f.queued == std::vector<std::string>{"app/one", "app/two"});
  const auto answer = f.reachability.store().get("postgresql://partop:***@a/app");
  REQUIRE(answer);
  CHECK((*answer)["reachable"] == false);
  CHECK((*answer)["error"] == "connection refused");

  f.queued.clear();
  f.reachability.probe_all();  // still down: already reported
  CHECK(f.queued.empty());

  f.databases.down.clear();
  f.reachability.probe_all();  // back: the policies are queued again to become Ready at once
  CHECK(f.queued == std::vector<std::string>{"app/one", "app/two"});
}

TEST_CASE("database reachability: a database found unreachable at the first look is reported") {
  Fixture f;
  f.databases.down.insert("postgresql://partop:pw@b/app");
  f.reachability.probe_all();
  CHECK(f.queued == std::vector<std::string>{"app/three"});
}

}  // namespace partop::controller
