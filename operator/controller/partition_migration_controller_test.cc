// The PartitionMigration controller's decisions with fakes at its seams (API server, caches, an
// unreachable database). What a migration does to a real database is proved by the integration
// and e2e suites.
#include "operator/controller/partition_migration_controller.h"

#include <doctest/doctest.h>

#include "operator/controller/kube_policy_backend.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_kube_client.h"
#include "tests/support/memory_store.h"
#include "tests/support/unreachable_database.h"

namespace partop::controller {
namespace {

using nlohmann::json;
using runtime::Result;
using testing::FakeKubeClient;
using testing::MemoryStore;
using testing::UnreachableDatabase;

const std::string kMigrations = "/apis/partop.dev/v1alpha1/namespaces/app/partitionmigrations";

json migration(const std::string& name, const std::string& table, const std::string& created) {
  return {
      {"apiVersion", "partop.dev/v1alpha1"},
      {"kind", "PartitionMigration"},
      {"metadata",
       {{"name", name}, {"namespace", "app"}, {"generation", 1}, {"creationTimestamp", created}}},
      {"spec",
       {{"table", table},
        {"partitionKey", "created_at"},
        {"interval", "monthly"},
        {"databaseRef", {{"secretName", "app-db"}}}}}};
}

struct Fixture {
  Fixture() {
    // "postgresql://partop:pw@db:5432/app"
    secrets.put({{"metadata", {{"name", "app-db"}, {"namespace", "app"}}},
                 {"data", {{"uri", "cG9zdGdyZXNxbDovL3BhcnRvcDpwd0BkYjo1NDMyL2FwcA=="}}}});
    for (const json& object : {migration("orders", "orders", "2026-01-01T00:00:00Z"),
                               migration("orders-again", "public.orders", "2026-01-02T00:00:00Z"),
                               migration("broken", "orders", "2026-01-03T00:00:00Z")}) {
      client.put_object(kMigrations, object);
      migrations.put(object);
    }
    json broken = migration("broken", "orders", "2026-01-03T00:00:00Z");
    broken["spec"]["target"] = "Sideways";
    migrations.put(broken);
    auto backend =
        std::make_unique<KubePolicyBackend>(client, secrets, "test", clock, "partitionmigrations");
    add_rewrite_claims<MigrationKind>(claims, migrations, policies, *backend);
    controller = std::make_unique<PartitionMigrationController>(migrations, policies, claims,
                                                                std::move(backend), database, clock,
                                                                metrics, runtime::StopReason{});
  }
  json ready(const std::string& name) {
    const json status =
        client.request(kube::Method::kGet, kMigrations + "/" + name, std::nullopt, "")
            .body.value("status", json());
    for (const auto& condition : status.value("conditions", json::array()))
      if (condition["type"] == "Ready") return condition;
    return json();
  }
  FakeKubeClient client;
  MemoryStore migrations, policies, secrets;
  testing::FakeClock clock;
  runtime::TableClaims claims;
  runtime::Metrics metrics;
  UnreachableDatabase database;
  std::unique_ptr<PartitionMigrationController> controller;
};

}  // namespace

TEST_CASE("migration controller: an invalid spec is reported and waits for an edit") {
  Fixture f;
  const Result result = f.controller->reconcile("app/broken");
  CHECK(result.next == Result::Next::kDone);
  CHECK(f.ready("broken")["reason"] == "InvalidSpec");
  CHECK(f.ready("broken")["message"].get<std::string>().find("spec.target") != std::string::npos);
  CHECK(f.database.attempts == 0);
}

TEST_CASE("migration controller: a second migration of a table is a Conflict, the first runs") {
  Fixture f;
  f.controller->reconcile("app/orders-again");
  CHECK(f.ready("orders-again")["reason"] == "Conflict");
  CHECK(f.database.attempts == 0);
  const Result result = f.controller->reconcile("app/orders");
  CHECK(f.database.attempts == 1);
  CHECK(f.ready("orders")["reason"] == "DatabaseUnavailable");
  CHECK(result.next == Result::Next::kError);  // the long backoff
}

}  // namespace partop::controller
