// libFuzzer target over the policy parser and validator, and the planner fed with whatever the
// parser accepts. Any crash, sanitizer report or uncaught exception is a bug: hostile input must
// end in field errors, never in a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "reconcilers/list/list_planner.h"
#include "reconcilers/partition/planner.h"
#include "reconcilers/partition/policy_parser.h"
#include "tests/support/observed_tables.h"

namespace {

partop::ObservedTable observed_table(const std::string& key_type_name) {
  partop::ObservedTable table = partop::testing::range_partitioned_table(
      {"public", "events"}, "created_at", key_type_name, {"id", "created_at", "payload"});
  table.max_key = 123456;
  table.partitions.push_back({{"public", "events_default"}, true});
  table.default_buckets = {{0, 3}};
  table.default_rows = 3;
  return table;
}

// A list-partitioned events table with one tenant partition (a sub-tree), rows of another
// tenant waiting in its DEFAULT, and a source naming both and a third.
void plan_list(const partop::PolicySpec& spec, partop::TimePoint now) {
  partop::ObservedListTable table;
  table.parent = partop::testing::range_partitioned_table(
      {"public", "events"}, "tenant_id", "text", {"id", "tenant_id", "created_at", "payload"});
  table.parent.strategy = "list";
  table.time_key_type_name = "timestamp with time zone";
  table.partitions = {{{"public", "events_acme"}, false, {"acme"}, true, "range", "created_at"},
                      {{"public", "events_default"}, true, {}, false, "", ""}};
  table.default_rows = {{"globex", 3}};
  partop::SourceValues source;
  source.values = {"acme", "globex", "it's"};
  (void)partop::plan_list(spec, table, source, {}, {}, now);
}

void plan_all(const partop::Policy& policy) {
  const auto now = std::chrono::system_clock::time_point{} + std::chrono::seconds(1795000000);
  if (policy.spec.list) {
    partop::PolicySpec spec = policy.spec;
    spec.premake = std::min(spec.premake, 50);
    plan_list(spec, now);
  }
  for (const char* key_type_name : {"timestamp with time zone", "date", "bigint"}) {
    partop::PolicySpec spec = policy.spec;
    spec.premake = std::min(spec.premake, 50);  // bound the work per input, not the logic
    (void)partop::plan_reconcile(spec, observed_table(key_type_name), {}, now);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const auto& parsed : partop::parse_policy_yaml(text)) {
    if (parsed.ok()) plan_all(*parsed.policy);
  }
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) {
    const auto parsed = partop::parse_policy(json);
    if (parsed.ok()) plan_all(*parsed.policy);
  }
  return 0;
}
