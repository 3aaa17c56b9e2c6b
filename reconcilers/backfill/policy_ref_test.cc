#include "reconcilers/backfill/policy_ref.h"

#include <doctest/doctest.h>

namespace partop {
namespace {

using nlohmann::json;

json backfill(json spec) {
  return {{"apiVersion", "partop.dev/v1alpha1"},
          {"kind", "PartitionBackfill"},
          {"metadata", {{"name", "fix"}}},
          {"spec", std::move(spec)}};
}

const json kPolicy = {{"kind", "PartitionPolicy"},
                      {"metadata", {{"name", "usage"}}},
                      {"spec",
                       {{"table", "metrics.daily_usage"},
                        {"databaseRef", {{"secretName", "app-db"}}},
                        {"guards", {{"lockTimeout", "1s"}}}}}};

std::optional<json> find_usage(const std::string& name) {
  if (name == "usage") return kPolicy;
  return std::nullopt;
}

}  // namespace

TEST_CASE("a backfill without policyRef is its own document") {
  const json document = backfill({{"table", "t"}, {"source", "s"}});
  const ResolvedDocument resolved = resolve_policy_ref(document, find_usage);
  REQUIRE(resolved.document);
  CHECK(*resolved.document == document);
}

TEST_CASE("policyRef takes the policy's table, database and guards") {
  const ResolvedDocument resolved = resolve_policy_ref(
      backfill({{"policyRef", {{"name", "usage"}}}, {"source", "s"}}), find_usage);
  REQUIRE_MESSAGE(resolved.document, resolved.message);
  const json& spec = (*resolved.document)["spec"];
  CHECK_FALSE(spec.contains("policyRef"));
  CHECK(spec["table"] == "metrics.daily_usage");
  CHECK(spec["databaseRef"]["secretName"] == "app-db");
  CHECK(spec["guards"]["lockTimeout"] == "1s");
  CHECK(spec["source"] == "s");
}

TEST_CASE("policyRef keeps the backfill's own database and guards") {
  const ResolvedDocument resolved =
      resolve_policy_ref(backfill({{"policyRef", {{"name", "usage"}}},
                                   {"databaseRef", {{"secretName", "other"}}},
                                   {"guards", {{"lockTimeout", "3s"}}}}),
                         find_usage);
  REQUIRE(resolved.document);
  const json& spec = (*resolved.document)["spec"];
  CHECK(spec["databaseRef"]["secretName"] == "other");
  CHECK(spec["guards"]["lockTimeout"] == "3s");
}

TEST_CASE("policyRef problems name the field") {
  SUBCASE("a missing policy may appear later") {
    const ResolvedDocument resolved =
        resolve_policy_ref(backfill({{"policyRef", {{"name", "nope"}}}}), find_usage);
    CHECK_FALSE(resolved.document);
    CHECK(resolved.reason == "PolicyNotFound");
    CHECK(resolved.message.find("spec.policyRef: no PartitionPolicy named nope") == 0);
  }
  SUBCASE("table and policyRef together") {
    const ResolvedDocument resolved = resolve_policy_ref(
        backfill({{"table", "t"}, {"policyRef", {{"name", "usage"}}}}), find_usage);
    CHECK_FALSE(resolved.document);
    CHECK(resolved.reason == "InvalidSpec");
    CHECK(resolved.message.find("not both") != std::string::npos);
  }
  SUBCASE("a reference without a name") {
    const ResolvedDocument resolved =
        resolve_policy_ref(backfill({{"policyRef", "usage"}}), find_usage);
    CHECK(resolved.reason == "InvalidSpec");
    CHECK(resolved.message.find("spec.policyRef: must be {name:") == 0);
  }
  SUBCASE("a policy without a table") {
    const ResolvedDocument resolved =
        resolve_policy_ref(backfill({{"policyRef", {{"name", "usage"}}}}),
                           [](const std::string&) -> std::optional<json> {
                             return json{{"spec", json::object()}};
                           });
    CHECK(resolved.reason == "InvalidSpec");
  }
}

}  // namespace partop
