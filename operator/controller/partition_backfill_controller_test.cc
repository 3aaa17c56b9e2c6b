// How PartitionBackfill objects claim their tables: one rewrite of a table at a time, except
// that a backfill complete at its generation gives its claim up.
#include "operator/controller/partition_backfill_controller.h"

#include <doctest/doctest.h>

#include "operator/controller/partition_migration_controller.h"
#include "tests/support/memory_store.h"

namespace partop::controller {
namespace {

using nlohmann::json;

json backfill(const std::string& name, const std::string& created, int64_t generation = 1) {
  return {{"apiVersion", "partop.dev/v1alpha1"},
          {"kind", "PartitionBackfill"},
          {"metadata",
           {{"name", name},
            {"namespace", "app"},
            {"generation", generation},
            {"creationTimestamp", created}}},
          {"spec",
           {{"table", "usage"},
            {"source", "usage_v2"},
            {"range", {{"from", "2026-01-01"}, {"to", "2026-02-01"}}},
            {"databaseRef", {{"secretName", "app-db"}}}}}};
}

json with_ready(json object, const std::string& status, const std::string& reason,
                int64_t observed_generation) {
  object["status"] = {
      {"observedGeneration", observed_generation},
      {"conditions", json::array({{{"type", "Ready"},
                                   {"status", status},
                                   {"reason", reason},
                                   {"message", ""},
                                   {"lastTransitionTime", "2026-01-01T00:00:00Z"}}})}};
  return object;
}

// Backfills and migrations claiming tables of one database; `second`, a backfill of
// public.usage created after the others, asks who owns its table.
struct Claimants {
  Claimants() {
    add_rewrite_claims<BackfillKind>(claims, backfills, policies, backend);
    add_rewrite_claims<MigrationKind>(claims, migrations, policies, backend);
    backfills.put(second);
  }
  std::optional<std::string> owner() const {
    return claims.owner_other_than("PartitionBackfill", second, "public.usage",
                                   "postgresql://partop@db/app");
  }
  testing::MemoryStore backfills, migrations, policies;
  runtime::TableClaims claims;
  const FixedDsnBackend backend{"postgresql://partop@db/app"};
  const json second = backfill("second", "2026-01-02T00:00:00Z");
};

}  // namespace

TEST_CASE_FIXTURE(Claimants,
                  "a complete backfill gives up its table's claim, a running one keeps it") {
  backfills.put(with_ready(backfill("first", "2026-01-01T00:00:00Z"), "False", "InProgress", 1));
  CHECK(owner() == std::optional<std::string>("PartitionBackfill app/first"));

  backfills.put(with_ready(backfill("first", "2026-01-01T00:00:00Z"), "True", "Complete", 1));
  CHECK_FALSE(owner().has_value());

  // Its spec edited since (generation 2, status of generation 1): it claims again.
  backfills.put(with_ready(backfill("first", "2026-01-01T00:00:00Z", 2), "True", "Complete", 1));
  CHECK(owner() == std::optional<std::string>("PartitionBackfill app/first"));
}

TEST_CASE_FIXTURE(Claimants,
                  "a backfill naming its table through policyRef claims the policy's table") {
  json by_policy = backfill("by-policy", "2026-01-01T00:00:00Z");
  by_policy["spec"].erase("table");
  by_policy["spec"]["policyRef"] = {{"name", "usage"}};
  backfills.put(by_policy);
  // Until the policy exists the reference leads nowhere: it claims nothing.
  CHECK_FALSE(owner().has_value());
  policies.put({{"metadata", {{"name", "usage"}, {"namespace", "app"}}},
                {"spec", {{"table", "usage"}, {"databaseRef", {{"secretName", "app-db"}}}}}});
  CHECK(owner() == std::optional<std::string>("PartitionBackfill app/by-policy"));
}

}  // namespace partop::controller
