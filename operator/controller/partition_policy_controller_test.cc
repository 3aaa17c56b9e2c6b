// The PartitionPolicy controller's decisions with fakes at its seams: the API server (status
// patches, Events), the policy and Secret caches, and a database that cannot be reached. What
// the engine does to a real database is proved by the integration and e2e suites.
#include "operator/controller/partition_policy_controller.h"

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
using namespace std::chrono_literals;

const std::string kPolicies = "/apis/partop.dev/v1alpha1/namespaces/app/partitionpolicies";

json policy(const std::string& name, const std::string& table, const std::string& created,
            const std::string& secret = "app-db") {
  return {
      {"apiVersion", "partop.dev/v1alpha1"},
      {"kind", "PartitionPolicy"},
      {"metadata",
       {{"name", name}, {"namespace", "app"}, {"generation", 1}, {"creationTimestamp", created}}},
      {"spec",
       {{"table", table}, {"interval", "daily"}, {"databaseRef", {{"secretName", secret}}}}}};
}

// Secret data is base64: these are "postgresql://partop:pw@db:5432/app" and the same on host
// "other".
const std::string kAppDb = "cG9zdGdyZXNxbDovL3BhcnRvcDpwd0BkYjo1NDMyL2FwcA==";
const std::string kOtherDb = "cG9zdGdyZXNxbDovL3BhcnRvcDpwd0BvdGhlcjo1NDMyL2FwcA==";

json secret(const std::string& name, const std::string& encoded_uri) {
  return {{"metadata", {{"name", name}, {"namespace", "app"}}}, {"data", {{"uri", encoded_uri}}}};
}

// A Ready outcome on public.events, its partitions to be filled in.
Outcome ready_outcome(KeyType key_type) {
  Outcome outcome;
  outcome.conditions = {{"Ready", "True", "Reconciled", "match"}};
  outcome.table = "public.events";
  outcome.key_type = key_type;
  return outcome;
}

// A Ready outcome on public.events with one daily partition.
Outcome outcome_with_one_partition() {
  Outcome outcome = ready_outcome(KeyType::kTimestampTz);
  ObservedPartition partition;
  partition.name = {"public", "events_p20260101"};
  partition.lower = 1767225600;
  partition.upper = 1767312000;
  outcome.partitions = {partition};
  return outcome;
}

struct Fixture {
  Fixture() {
    secrets.put(secret("app-db", kAppDb));
    // The objects exist on the fake server too, so status patches land somewhere.
    client.put_object(kPolicies, policy("events", "events", "2026-01-01T00:00:00Z"));
    client.put_object(kPolicies, policy("events-again", "public.events", "2026-01-02T00:00:00Z"));
    client.put_object(kPolicies, policy("broken", "1nvalid", "2026-01-01T00:00:00Z"));
    client.put_object(kPolicies, policy("orphan", "orders", "2026-01-01T00:00:00Z", "missing"));
  }
  // One controller per fixture: its backend resolves the databases of the claims.
  PartitionPolicyController& controller() {
    if (!controller_) {
      auto backend = std::make_unique<KubePolicyBackend>(client, secrets, "test", clock);
      add_policy_claims(claims, policies, *backend);
      controller_ = std::make_unique<PartitionPolicyController>(
          policies, claims, std::move(backend), database, clock, metrics, runtime::StopReason{});
    }
    return *controller_;
  }
  json status_of(const std::string& name) {
    return client.request(kube::Method::kGet, kPolicies + "/" + name, std::nullopt, "")
        .body.value("status", json());
  }
  std::string ready_reason(const std::string& name) {
    for (const auto& condition : status_of(name).value("conditions", json::array()))
      if (condition["type"] == "Ready") return condition["reason"];
    return "";
  }
  // The methods of the requests sent to ConfigMaps, in order.
  std::vector<kube::Method> map_requests() const {
    std::vector<kube::Method> methods;
    for (const auto& request : client.requests()) {
      if (request.path.find("/configmaps") != std::string::npos) methods.push_back(request.method);
    }
    return methods;
  }
  int warning_events(const std::string& reason) {
    int count = 0;
    for (const auto& request : client.requests()) {
      if (request.method == kube::Method::kPost &&
          request.path.find("/events") != std::string::npos &&
          request.body.value("reason", "") == reason && request.body.value("type", "") == "Warning")
        ++count;
    }
    return count;
  }

  FakeKubeClient client;
  MemoryStore policies;
  MemoryStore secrets;
  UnreachableDatabase database;
  testing::FakeClock clock;
  runtime::Metrics metrics;
  runtime::TableClaims claims;

 private:
  std::unique_ptr<PartitionPolicyController> controller_;
};

}  // namespace

TEST_CASE("policy controller: an invalid spec is reported and waits for an edit") {
  Fixture f;
  f.policies.put(policy("broken", "1nvalid", "2026-01-01T00:00:00Z"));
  const Result result = f.controller().reconcile("app/broken");
  CHECK(result.next == Result::Next::kDone);
  CHECK(f.ready_reason("broken") == "InvalidSpec");
  CHECK(f.warning_events("InvalidSpec") == 1);
  CHECK(f.database.attempts == 0);
}

TEST_CASE("policy controller: a missing Secret is retried after 30 s without touching a database") {
  Fixture f;
  f.policies.put(policy("orphan", "orders", "2026-01-01T00:00:00Z", "missing"));
  const Result result = f.controller().reconcile("app/orphan");
  CHECK(result.next == Result::Next::kRequeueAfter);
  CHECK(result.after == 30s);
  CHECK(f.ready_reason("orphan") == "SecretNotFound");
  CHECK(f.database.attempts == 0);
}

TEST_CASE("policy controller: the earliest policy keeps a table, a later one is Conflict") {
  Fixture f;
  f.policies.put(policy("events", "events", "2026-01-01T00:00:00Z"));
  f.policies.put(policy("events-again", "public.events", "2026-01-02T00:00:00Z"));
  auto& controller = f.controller();
  const Result later = controller.reconcile("app/events-again");
  CHECK(later.next == Result::Next::kRequeueAfter);
  CHECK(f.ready_reason("events-again") == "Conflict");
  CHECK(f.database.attempts == 0);
  // The same table in another database is no conflict.
  f.secrets.put(secret("other-db", kOtherDb));
  f.policies.put(policy("events-again", "public.events", "2026-01-02T00:00:00Z", "other-db"));
  controller.reconcile("app/events-again");
  CHECK(f.ready_reason("events-again") == "DatabaseUnavailable");
}

TEST_CASE("policy controller: a claim of another kind of the same role is a Conflict too") {
  Fixture f;
  f.policies.put(policy("events", "events", "2026-01-02T00:00:00Z"));
  const auto claims_on = [](const json&) -> std::optional<std::string> {
    return redact_dsn("postgresql://partop:pw@db:5432/app");
  };
  const json earlier = {
      {"metadata",
       {{"name", "other"}, {"namespace", "app"}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
      {"spec", {{"table", "public.events"}}}};
  // A migration claimed the table first: another role, no conflict (the policy waits for it
  // through the database instead).
  MemoryStore migrations;
  migrations.put(earlier);
  f.claims.add_kind(
      {"PartitionMigration", "rewrite",
       [&migrations](const std::string& table, const std::function<void(const json&)>& visit) {
         migrations.for_each_indexed(runtime::table_index(), table, visit);
       },
       claims_on});
  f.controller().reconcile("app/events");
  CHECK(f.ready_reason("events") == "DatabaseUnavailable");
  // A resource of another kind maintaining layouts claimed it first: Conflict, no database.
  MemoryStore layouts;
  layouts.put(earlier);
  f.claims.add_kind(
      {"OtherLayoutKind", "layout",
       [&layouts](const std::string& table, const std::function<void(const json&)>& visit) {
         layouts.for_each_indexed(runtime::table_index(), table, visit);
       },
       claims_on});
  const int attempts = f.database.attempts;
  f.controller().reconcile("app/events");
  CHECK(f.ready_reason("events") == "Conflict");
  CHECK(f.database.attempts == attempts);
  // The policy claims nothing it does not name: another table is no conflict.
  layouts.put(
      {{"metadata",
        {{"name", "other"}, {"namespace", "app"}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
       {"spec", {{"table", "public.orders"}}}});
  f.controller().reconcile("app/events");
  CHECK(f.ready_reason("events") == "DatabaseUnavailable");
}

TEST_CASE("policy controller: an unreachable database is an error on the long backoff") {
  Fixture f;
  f.policies.put(policy("events", "events", "2026-01-01T00:00:00Z"));
  const Result result = f.controller().reconcile("app/events");
  CHECK(result.next == Result::Next::kError);
  CHECK(f.ready_reason("events") == "DatabaseUnavailable");
  CHECK(f.database.attempts == 1);
  // The password never reaches status.
  CHECK(f.status_of("events").dump().find(":pw@") == std::string::npos);
  // Nothing was observed: no figures are exported (not 0 partitions and an empty DEFAULT).
  const std::string series = f.metrics.render();
  CHECK(series.find("partop_partitions{") == std::string::npos);
  CHECK(series.find("partop_default_rows{") == std::string::npos);
}

TEST_CASE("policy controller: a deleted policy clears its metrics and touches nothing") {
  Fixture f;
  const Result result = f.controller().reconcile("app/gone");
  CHECK(result.next == Result::Next::kDone);
  CHECK(f.client.count_requests(kube::Method::kPatch, "/") == 0);
  CHECK(f.database.attempts == 0);
}

TEST_CASE("partition map: a new policy's map is one POST, a changed one one PATCH") {
  Fixture f;
  KubePolicyBackend backend(f.client, f.secrets, "test", f.clock);
  const json object = policy("events", "events", "2026-01-01T00:00:00Z");
  Outcome outcome = outcome_with_one_partition();
  backend.report(object, outcome);
  CHECK(f.map_requests() == std::vector<kube::Method>{kube::Method::kPost});
  backend.report(object, outcome);  // unchanged: nothing sent
  CHECK(f.map_requests().size() == 1);
  outcome.partitions[0].name.name = "events_day1";
  backend.report(object, outcome);
  CHECK(f.map_requests() == std::vector<kube::Method>{kube::Method::kPost, kube::Method::kPatch});
}

TEST_CASE("partition map: after a restart an unchanged map is read, not written") {
  Fixture f;
  const json object = policy("events", "events", "2026-01-01T00:00:00Z");
  json reported = object;  // as the next process finds it: with the status its predecessor wrote
  reported["status"] = {{"observedGeneration", 1}};
  Outcome outcome = outcome_with_one_partition();
  KubePolicyBackend(f.client, f.secrets, "test", f.clock).report(object, outcome);
  REQUIRE(f.map_requests() == std::vector<kube::Method>{kube::Method::kPost});
  // Each backend below is a new process.
  KubePolicyBackend(f.client, f.secrets, "test", f.clock).report(reported, outcome);
  CHECK(f.map_requests() == std::vector<kube::Method>{kube::Method::kPost, kube::Method::kGet});
  outcome.partitions[0].name.name = "events_day1";
  KubePolicyBackend(f.client, f.secrets, "test", f.clock).report(reported, outcome);
  CHECK(f.map_requests() == std::vector<kube::Method>{kube::Method::kPost, kube::Method::kGet,
                                                      kube::Method::kGet, kube::Method::kPatch});
  f.client.delete_object("/api/v1/namespaces/app/configmaps", "events-partitions");
  KubePolicyBackend(f.client, f.secrets, "test", f.clock).report(reported, outcome);
  CHECK(f.map_requests() == std::vector<kube::Method>{kube::Method::kPost, kube::Method::kGet,
                                                      kube::Method::kGet, kube::Method::kPatch,
                                                      kube::Method::kDelete,  // the test's
                                                      kube::Method::kGet, kube::Method::kPost});
}

TEST_CASE("events: a new table's first reconcile is one PartitionsCreated Event") {
  Fixture f;
  KubePolicyBackend backend(f.client, f.secrets, "test", f.clock);
  const json object = policy("events", "events", "2026-01-01T00:00:00Z");
  Outcome outcome = ready_outcome(KeyType::kTimestampTz);
  // The parent indexes (ON ONLY, nothing to build), DEFAULT and two partitions.
  outcome.applied_kinds = {ActionKind::kCreateParentIndex, ActionKind::kCreateParentIndex,
                           ActionKind::kCreateDefault, ActionKind::kCreatePartition,
                           ActionKind::kCreatePartition};
  backend.report(object, outcome);
  std::vector<std::string> reasons;
  for (const auto& request : f.client.requests()) {
    if (request.method == kube::Method::kPost && request.path.find("/events") != std::string::npos)
      reasons.push_back(request.body.value("reason", "") + ": " +
                        request.body.value("message", ""));
  }
  CHECK(reasons ==
        std::vector<std::string>{"PartitionsCreated: 3 partition(s) created on public.events"});
}

TEST_CASE("partition map: a map over the size limit is not sent, the status and an Event say so") {
  Fixture f;
  KubePolicyBackend backend(f.client, f.secrets, "test", f.clock);
  const json object = policy("events", "events", "2026-01-01T00:00:00Z");
  Outcome outcome = ready_outcome(KeyType::kBigint);
  // 12,000 hand-made partitions partop would not have named so: no run, one entry each.
  for (int i = 0; i < 12000; ++i) {
    ObservedPartition partition;
    partition.name = {"public", "events_legacy_archive_" + std::to_string(i)};
    partition.lower = i * 10;
    partition.upper = i * 10 + 10;
    outcome.partitions.push_back(partition);
  }
  backend.report(object, outcome);
  CHECK(f.client.count_requests(kube::Method::kPost, "/api/v1/namespaces/app/configmaps") == 0);
  CHECK(f.warning_events("PartitionMapTooLarge") == 1);
  bool condition_found = false;
  for (const auto& condition : f.status_of("events").value("conditions", json::array())) {
    if (condition["type"] == "PartitionMapComplete")
      condition_found =
          condition["status"] == "False" && condition["reason"] == "PartitionMapTooLarge";
  }
  CHECK(condition_found);
  CHECK(f.ready_reason("events") == "Reconciled");  // the table itself is as the policy says
}

TEST_CASE("next_after: guards retry soon, failures back off, Stalled and Ready wait a resync") {
  auto outcome = [](const std::string& reason, bool retry, bool stalled) {
    Outcome o;
    set_condition(o.conditions, {"Ready", "False", reason, ""});
    set_condition(o.conditions, {"Stalled", stalled ? "True" : "False", reason, ""});
    o.retry_with_backoff = retry;
    o.requeue_after = std::chrono::milliseconds(600000);
    return o;
  };
  const auto resync = std::chrono::milliseconds(600000);
  CHECK(next_after(outcome("LockTimeout", true, false)).next == Result::Next::kGuardDeferred);
  CHECK(next_after(outcome("ReplicationLagHigh", true, false)).next ==
        Result::Next::kGuardDeferred);
  CHECK(next_after(outcome("Busy", true, false)).next == Result::Next::kGuardDeferred);
  CHECK(next_after(outcome("StorageQuotaExceeded", true, false)).next == Result::Next::kError);
  CHECK(next_after(outcome("DatabaseUnavailable", true, false)).next == Result::Next::kError);
  CHECK(next_after(outcome("ActionFailed", true, false)).next == Result::Next::kError);
  CHECK(next_after(outcome("ShuttingDown", true, false)).next == Result::Next::kDone);
  const Result stalled = next_after(outcome("TableNotFound", true, true));
  CHECK(stalled.next == Result::Next::kRequeueAfter);
  CHECK(stalled.after == resync);
  Outcome ready;
  ready.requeue_after = resync;
  set_condition(ready.conditions, {"Ready", "True", "Reconciled", ""});
  CHECK(next_after(ready).next == Result::Next::kRequeueAfter);
}

TEST_CASE("policy controller: a status the API refuses to take is an error, retried, announced") {
  Fixture f;
  f.policies.put(policy("events", "events", "2026-01-01T00:00:00Z"));
  f.client.fail_requests(kPolicies + "/events/status", 403);
  const Result result = f.controller().reconcile("app/events");
  CHECK(result.next == Result::Next::kError);
  CHECK(result.failure == "StatusWriteFailed");
  CHECK(f.warning_events("StatusWriteFailed") == 1);
  bool names_permission = false;
  for (const auto& request : f.client.requests()) {
    if (request.body.value("reason", "") == "StatusWriteFailed")
      names_permission =
          request.body.value("message", "").find("patch verb on partitionpolicies/status") !=
          std::string::npos;
  }
  CHECK(names_permission);
  f.client.fail_requests(kPolicies + "/events/status", 0);
  CHECK(f.controller().reconcile("app/events").failure == "DatabaseUnavailable");
  CHECK(f.ready_reason("events") == "DatabaseUnavailable");
}

TEST_CASE("policy controller: a policy deleted while its reconcile works gets no status") {
  Fixture f;
  f.policies.put(policy("events", "events", "2026-01-01T00:00:00Z"));
  f.database.on_connect = [&] { f.policies.erase("app/events"); };
  const Result result = f.controller().reconcile("app/events");
  CHECK(result.next == Result::Next::kDone);
  CHECK(result.failure.empty());
  CHECK(f.client.count_requests(kube::Method::kPatch, kPolicies) == 0);
  CHECK(f.warning_events("DatabaseUnavailable") == 0);
}

TEST_CASE("policy controller: no status is written once the manager stops acting") {
  Fixture f;
  f.policies.put(policy("events", "events", "2026-01-01T00:00:00Z"));
  std::string why;
  auto backend = std::make_unique<KubePolicyBackend>(f.client, f.secrets, "test", f.clock);
  PartitionPolicyController controller(f.policies, f.claims, std::move(backend), f.database,
                                       f.clock, f.metrics, [&] { return why; });
  f.database.on_connect = [&] { why = "leadership lost"; };
  CHECK(controller.reconcile("app/events").next == Result::Next::kDone);
  CHECK(f.client.count_requests(kube::Method::kPatch, kPolicies) == 0);
}

}  // namespace partop::controller
