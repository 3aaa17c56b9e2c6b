#include "reconcilers/partition/policy_parser.h"

#include <doctest/doctest.h>

namespace partop {
namespace {

constexpr const char* kFull = R"(
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata:
  name: events
  namespace: prod
spec:
  table: app.events
  interval: monthly
  premake: 4
  defaultPartition: {enabled: true, drain: false}
  indexes:
    - name: events_id_idx
      columns: [id, created_at]
      unique: true
    - {name: events_payload_gin, columns: [payload], method: gin}
  retention: {keep: "12 months", action: detach}
  guards:
    lockTimeout: 300ms
    statementTimeout: 1m
    maxReplicationLag: 10s
    storage: {capacity: 500Gi, thresholdPercent: 75}
  schedule:
    resyncInterval: 5m
    maintenanceWindow: {start: "02:00", end: "05:00", timeZone: Europe/Paris}
  suspend: false
  databaseRef: {secretName: app-db}
)";

std::string errors_of(const std::string& spec_yaml) {
  const auto parsed = parse_policy_yaml(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionPolicy\nmetadata: {name: p}\nspec:\n" +
      spec_yaml);
  REQUIRE(parsed.size() == 1);
  return parsed[0].error_summary();
}

}  // namespace

TEST_CASE("a full policy parses with every field") {
  const auto parsed = parse_policy_yaml(kFull);
  REQUIRE(parsed.size() == 1);
  REQUIRE_MESSAGE(parsed[0].ok(), parsed[0].error_summary());
  const Policy& policy = *parsed[0].policy;
  CHECK(policy.key() == "prod/events");
  CHECK(policy.spec.table == QualifiedName{"app", "events"});
  CHECK(policy.spec.interval.unit == TimeUnit::kMonth);
  CHECK(policy.spec.premake == 4);
  CHECK_FALSE(policy.spec.default_drain);
  REQUIRE(policy.spec.indexes.size() == 2);
  CHECK(policy.spec.indexes[0].unique);
  CHECK(policy.spec.indexes[1].method == "gin");
  REQUIRE(policy.spec.retention.has_value());
  CHECK(policy.spec.retention->amount == 12);
  CHECK(policy.spec.retention->unit == RetentionSpec::Unit::kMonths);
  CHECK(policy.spec.retention->action == RetentionSpec::Action::kDetach);
  CHECK(policy.spec.guards.lock_timeout == std::chrono::milliseconds(300));
  CHECK(policy.spec.guards.statement_timeout == std::chrono::minutes(1));
  CHECK(policy.spec.guards.storage->capacity_bytes == 500LL * 1024 * 1024 * 1024);
  CHECK(policy.spec.guards.storage->threshold_percent == 75);
  CHECK(policy.spec.schedule.maintenance_window->start_minute == 120);
  CHECK(policy.spec.schedule.maintenance_window->time_zone == "Europe/Paris");
  CHECK(policy.spec.database_ref->secret_name == "app-db");
  CHECK(policy.spec.database_ref->key == "uri");
}

TEST_CASE("defaults apply") {
  const auto parsed = parse_policy_yaml(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionPolicy\nmetadata: {name: p}\n"
      "spec: {table: events, interval: daily}\n");
  REQUIRE(parsed[0].ok());
  const PolicySpec& spec = parsed[0].policy->spec;
  CHECK(spec.table == QualifiedName{"public", "events"});
  CHECK(spec.premake == 7);
  CHECK(spec.default_enabled);
  CHECK(spec.default_drain);
  CHECK(spec.guards.lock_timeout == std::chrono::seconds(2));
  CHECK(spec.guards.statement_timeout == std::chrono::seconds(30));
  CHECK(spec.guards.max_replication_lag == std::chrono::seconds(5));
  CHECK(spec.schedule.resync_interval == std::chrono::minutes(10));
  CHECK_FALSE(spec.suspend);
}

TEST_CASE("integer intervals and key spans") {
  const auto parsed = parse_policy_yaml(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionPolicy\nmetadata: {name: p}\n"
      "spec: {table: t, interval: 100000, retention: {keep: 5000000}}\n");
  REQUIRE_MESSAGE(parsed[0].ok(), parsed[0].error_summary());
  CHECK(parsed[0].policy->spec.interval.width == 100000);
  CHECK(parsed[0].policy->spec.retention->unit == RetentionSpec::Unit::kKeys);
}

TEST_CASE("what users mean: duplicate keys, retention under one interval, timeouts out of order") {
  CHECK(errors_of("  table: t\n  interval: daily\n  premake: 3\n  premake: 30\n") ==
        "(yaml): line 8: duplicate key \"premake\"");
  CHECK(errors_of("  table: t\n  interval: monthly\n  retention: {keep: 20 days}\n") ==
        "spec.retention.keep: keeps less than one interval (monthly): every partition would "
        "expire as soon as it is created");
  CHECK(errors_of("  table: t\n  interval: 1000\n  retention: {keep: 999}\n")
            .find("spec.retention.keep: keeps less than one interval (1000)") == 0);
  // One interval is enough: a month kept under a monthly interval, a day under daily.
  CHECK(errors_of("  table: t\n  interval: monthly\n  retention: {keep: 1 month}\n").empty());
  CHECK(errors_of("  table: t\n  interval: monthly\n  retention: {keep: 28 days}\n").empty());
  CHECK(errors_of("  table: t\n  interval: hourly\n  retention: {keep: 1 hour}\n").empty());
  CHECK(errors_of("  table: t\n  interval: daily\n"
                  "  guards: {lockTimeout: 5s, statementTimeout: 2s}\n")
            .find("spec.guards.statementTimeout: must not be shorter than lockTimeout") == 0);
  CHECK(errors_of("  table: t\n  interval: daily\n  guards: {lockTimeout: 5s}\n").empty());
  CHECK(errors_of("  table: t\n  interval: daily\n  guards: {lockTimeout: 5s, drainTimeout: 1s}\n")
            .find("spec.guards.drainTimeout: must not be shorter than lockTimeout") == 0);
  const auto parsed = parse_policy_yaml(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionPolicy\nmetadata: {name: p}\n"
      "spec: {table: t, interval: daily, guards: {drainTimeout: 1h, indexBuildTimeout: 12h}}\n");
  REQUIRE(parsed[0].ok());
  CHECK(parsed[0].policy->spec.guards.drain_timeout == std::chrono::hours(1));
  CHECK(parsed[0].policy->spec.guards.index_build_timeout == std::chrono::hours(12));
}

TEST_CASE("every invalid field is named") {
  CHECK(errors_of("  interval: daily\n") == "spec.table: is required");
  CHECK(errors_of("  table: t\n  interval: fortnightly\n").find("spec.interval: must be one of") ==
        0);
  CHECK(errors_of("  table: t\n  interval: 0\n").find("spec.interval:") == 0);
  CHECK(errors_of("  table: t\n  interval: daily\n  premake: 0\n") ==
        "spec.premake: must be between 1 and 1000, got 0");
  CHECK(errors_of("  table: t\n  interval: daily\n  premake: \"7\"\n") ==
        "spec.premake: must be an integer, got string");
  CHECK(errors_of("  table: t\n  interval: daily\n  premaek: 7\n") ==
        "spec.premaek: is not a known field");
  CHECK(errors_of("  table: t\n  interval: daily\n  guards: {lockTimeout: 2 seconds}\n")
            .find("spec.guards.lockTimeout: must be a positive duration") == 0);
  CHECK(errors_of("  table: t\n  interval: daily\n  guards: {storage: {capacity: lots}}\n")
            .find("spec.guards.storage.capacity:") == 0);
  CHECK(errors_of("  table: t\n  interval: daily\n  retention: {keep: forever}\n")
            .find("spec.retention.keep:") == 0);
  CHECK(errors_of("  table: t\n  interval: daily\n  retention: {keep: 1000}\n")
            .find("spec.retention.keep: must be a time span") == 0);
  CHECK(
      errors_of("  table: t\n  interval: daily\n  retention: {keep: 3 days, action: archive}\n") ==
      "spec.retention.action: must be drop or detach, got \"archive\"");
  CHECK(errors_of("  table: t\n  interval: daily\n  indexes: [{name: i, columns: []}]\n") ==
        "spec.indexes[0].columns: must name at least one column");
  CHECK(errors_of(
            "  table: t\n  interval: daily\n  indexes: [{name: i, columns: [a], method: btree2}]\n")
            .find("spec.indexes[0].method:") == 0);
  CHECK(errors_of("  table: t\n  interval: daily\n  schedule: {maintenanceWindow: {start: "
                  "\"25:00\", end: \"02:00\"}}\n")
            .find("spec.schedule.maintenanceWindow.start:") == 0);
  CHECK(errors_of("  table: t\n  interval: daily\n  suspend: yes please\n") ==
        "spec.suspend: must be true or false, got \"yes please\"");
}

TEST_CASE("SQL injection attempts in identifier fields are rejected") {
  for (const char* hostile :
       {"events; DROP TABLE users", "\"events\"", "ev'ents", "a.b.c", "events--",
        "pg_catalog.pg_class", "information_schema.tables", "x\\\" OR 1=1",
        "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"}) {
    CAPTURE(hostile);
    nlohmann::json doc = {{"apiVersion", "partop.dev/v1alpha1"},
                          {"kind", "PartitionPolicy"},
                          {"metadata", {{"name", "p"}}},
                          {"spec", {{"table", hostile}, {"interval", "daily"}}}};
    auto parsed = parse_policy(doc);
    CHECK_FALSE(parsed.ok());
    CHECK(parsed.error_summary().find("spec.table:") == 0);
    doc["spec"] = {
        {"table", "t"},
        {"interval", "daily"},
        {"indexes", {{{"name", hostile}, {"columns", {hostile}}, {"include", {hostile}}}}}};
    parsed = parse_policy(doc);
    CHECK_FALSE(parsed.ok());
    CHECK(parsed.error_summary().find("spec.indexes[0].name:") != std::string::npos);
    CHECK(parsed.error_summary().find("spec.indexes[0].columns[0]:") != std::string::npos);
    CHECK(parsed.error_summary().find("spec.indexes[0].include[0]:") != std::string::npos);
  }
}

TEST_CASE("a partial index predicate is parsed, rendered quoted, and refused beyond its grammar") {
  nlohmann::json doc = {{"apiVersion", "partop.dev/v1alpha1"},
                        {"kind", "PartitionPolicy"},
                        {"metadata", {{"name", "p"}}},
                        {"spec",
                         {{"table", "t"},
                          {"interval", "daily"},
                          {"indexes",
                           {{{"name", "t_open"},
                             {"columns", {"id"}},
                             {"where", "closed_at IS NULL AND state <> 'x'"}}}}}}};
  auto parsed = parse_policy(doc);
  REQUIRE_MESSAGE(parsed.ok(), parsed.error_summary());
  CHECK(parsed.policy->spec.indexes[0].where == R"("closed_at" IS NULL AND "state" <> 'x')");
  CHECK(parsed.policy->spec.indexes[0].where_columns ==
        std::vector<std::string>{"closed_at", "state"});
  doc["spec"]["indexes"][0]["where"] = "true); DROP TABLE users; --";
  parsed = parse_policy(doc);
  CHECK_MESSAGE(
      parsed.error_summary().find("spec.indexes[0].where: unexpected ';' at position 6") == 0,
      parsed.error_summary());
}

TEST_CASE("document-level errors") {
  auto parsed =
      parse_policy_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nspec: {}\n");
  CHECK(parsed[0].error_summary().find("apiVersion: must be partop.dev/v1alpha1") == 0);
  parsed = parse_policy_yaml("spec: [unclosed\n");
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0].errors[0].field == "(yaml)");
  parsed = parse_policy_yaml(std::string(kFull) + "---\n" + kFull);
  CHECK(parsed.size() == 2);
  parsed = parse_policy_file("/nonexistent/policy.yaml");
  CHECK(parsed[0].error_summary() == "/nonexistent/policy.yaml: cannot be read");
}

TEST_CASE("control characters are refused before the YAML parser sees them") {
  const auto parsed =
      parse_policy_yaml(std::string("apiVersion: partop.dev/v1alpha1\nkind: P\0x\n", 40));
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0].error_summary() ==
        "(yaml): line 2: control character 0x00 is not allowed in YAML");
  CHECK(parse_policy_yaml("a: \xc3\xa9\nb: \x85\n")[0].error_summary() ==
        "(yaml): line 2: the text is not valid UTF-8");
  CHECK(parse_policy_yaml("a: \xed\xa0\x80\n")[0].error_summary() ==  // a surrogate
        "(yaml): line 1: the text is not valid UTF-8");
  CHECK(parse_policy_yaml("a: \xc0\xaf\n")[0].error_summary() ==  // an overlong '/'
        "(yaml): line 1: the text is not valid UTF-8");
}

TEST_CASE("yaml scalars keep their types") {
  const auto json = yaml_to_json("a: 7\nb: '7'\nc: true\nd: ~\ne: 2s\nf: \"true\"\n");
  CHECK(json["a"].is_number_integer());
  CHECK(json["b"].is_string());
  CHECK(json["c"].is_boolean());
  CHECK(json["d"].is_null());
  CHECK(json["e"] == "2s");
  CHECK(json["f"].is_string());
  CHECK(yaml_to_json("g: 1.5e99999")["g"] == "1.5e99999");  // out of range: kept as text
}

}  // namespace partop

namespace partop {

TEST_CASE("a list policy: values or valuesFrom, and a range sub-tree per value with timeKey") {
  const auto parsed = parse_policy_yaml(R"(
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata: {name: events}
spec:
  table: public.events
  list:
    column: tenant_id
    valuesFrom: {table: public.tenants, column: id, where: active}
  timeKey: event_ts
  interval: daily
  premake: 7
  retention: {keep: 90 days}
)");
  REQUIRE(parsed.size() == 1);
  REQUIRE(parsed[0].ok());
  const PolicySpec& spec = parsed[0].policy->spec;
  REQUIRE(spec.list);
  CHECK(spec.list->column == "tenant_id");
  CHECK(spec.list->values.empty());
  REQUIRE(spec.list->values_from);
  CHECK(spec.list->values_from->table == QualifiedName{"public", "tenants"});
  CHECK(spec.list->values_from->column == "id");
  CHECK(spec.list->values_from->where_column == "active");
  CHECK(spec.list->time_key == "event_ts");
  CHECK(spec.has_interval());

  const auto leaves = parse_policy_yaml(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionPolicy\nmetadata: {name: p}\nspec:\n"
      "  table: t\n"
      "  list: {column: region, values: [eu, us, 7]}\n");
  REQUIRE(leaves[0].ok());
  CHECK(leaves[0].policy->spec.list->values == std::vector<std::string>{"eu", "us", "7"});
  CHECK_FALSE(leaves[0].policy->spec.has_interval());
  CHECK(leaves[0].policy->spec.list->time_key.empty());
}

TEST_CASE("list policy errors name the field") {
  CHECK(errors_of("  table: t\n  list: {column: c}\n") ==
        "spec.list.values: exactly one of values and valuesFrom must be set");
  CHECK(errors_of("  table: t\n  list: {column: c, values: [a], valuesFrom: {table: s, column: "
                  "id}}\n") ==
        "spec.list.values: exactly one of values and valuesFrom must be set");
  CHECK(errors_of("  table: t\n  list: {values: [a]}\n") == "spec.list.column: is required");
  CHECK(errors_of("  table: t\n  list: {column: \"c; drop\", values: [a]}\n")
            .find("spec.list.column: must be a column name") == 0);
  CHECK(errors_of("  table: t\n  list: {column: c, values: [a, a]}\n") ==
        "spec.list.values[1]: repeats the value \"a\"");
  CHECK(errors_of("  table: t\n  list: {column: c, values: [{x: 1}]}\n")
            .find("spec.list.values[0]: must be a string or an integer") == 0);
  CHECK(errors_of("  table: t\n  list: {column: c, values: []}\n") ==
        "spec.list.values: must name at least one value");
  CHECK(errors_of("  table: t\n  list: {column: c, valuesFrom: {table: s, column: id, where: "
                  "\"active = true\"}}\n")
            .find("spec.list.valuesFrom.where: must be a column name") == 0);
  CHECK(errors_of("  table: t\n  list: {column: c, valuesFrom: {column: id}}\n") ==
        "spec.list.valuesFrom.table: is required");
  CHECK(errors_of("  table: t\n  list: {column: c, values: [a]}\n  interval: daily\n") ==
        "spec.timeKey: is required with spec.interval: the column each list partition is "
        "range-partitioned on");
  CHECK(errors_of("  table: t\n  list: {column: c, values: [a]}\n  timeKey: ts\n") ==
        "spec.interval: is required with spec.timeKey");
  CHECK(errors_of("  table: t\n  list: {column: c, values: [a]}\n  premake: 3\n")
            .find("spec.premake: needs spec.interval") == 0);
  CHECK(errors_of("  table: t\n  interval: daily\n  timeKey: ts\n") ==
        "spec.timeKey: applies only with spec.list (a range table's key is its partition key)");
  CHECK(errors_of("  table: t\n") == "spec.interval: is required");
}

}  // namespace partop
