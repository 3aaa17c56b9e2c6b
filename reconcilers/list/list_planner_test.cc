#include "reconcilers/list/list_planner.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "reconcilers/partition/policy_parser.h"

namespace partop {
namespace {

PolicySpec list_spec(const std::string& extra) {
  const auto parsed = parse_policy_yaml(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionPolicy\nmetadata: {name: p}\nspec:\n"
      "  table: public.events\n"
      "  list: {column: tenant_id, values: [acme, globex]}\n" +
      extra);
  REQUIRE(parsed.size() == 1);
  REQUIRE_MESSAGE(parsed[0].ok(), parsed[0].error_summary());
  return parsed[0].policy->spec;
}

ObservedListTable events_by_tenant() {
  ObservedListTable table;
  ObservedTable& parent = table.parent;
  parent.name = {"public", "events"};
  parent.exists = true;
  parent.relkind = 'p';
  parent.strategy = "list";
  parent.key_column_count = 1;
  parent.key_column = "tenant_id";
  parent.key_type_name = "text";
  parent.columns = {"id", "tenant_id", "event_ts", "payload"};
  parent.owner = "app";
  table.time_key_type_name = "timestamp with time zone";
  return table;
}

SourceValues values(std::vector<std::string> names) {
  SourceValues source;
  source.values = std::move(names);
  return source;
}

// 2026-12-02 10:00 UTC.
const TimePoint kNow{std::chrono::seconds(1796205600)};

ListPlan plan_of(const PolicySpec& spec, const ObservedListTable& table, const SourceValues& source,
                 const std::vector<std::string>& taken = {}) {
  return plan_list(spec, table, source, taken, ObservedServer{}, kNow);
}

const std::string kSubTrees =
    "  timeKey: event_ts\n  interval: daily\n"
    "  indexes: [{name: events_id_idx, columns: [id]}]\n";

}  // namespace

TEST_CASE("list plan: indexes, DEFAULT, then one sub-tree per value, each complete before ATTACH") {
  const PolicySpec spec = list_spec(kSubTrees);
  const ListPlan plan = plan_of(spec, events_by_tenant(), values({"acme", "globex"}), {});
  CHECK(plan.plan.findings.empty());
  REQUIRE(plan.plan.actions.size() == 4);
  CHECK(plan.plan.actions[0].kind == ActionKind::kCreateParentIndex);
  CHECK(plan.plan.actions[1].kind == ActionKind::kCreateDefault);
  const Action& acme = plan.plan.actions[2];
  CHECK(acme.kind == ActionKind::kCreateListPartition);
  CHECK(acme.summary ==
        "create public.events_acme for 'acme' (range sub-tree on event_ts with its first "
        "partitions)");
  const std::vector<std::string>& sql = acme.statements;
  // Writes through the parent wait at the parent while DEFAULT's constraint changes.
  CHECK(sql[0] == "LOCK TABLE ONLY \"public\".\"events\" IN EXCLUSIVE MODE");
  CHECK(acme.queues_behind_short_transactions);
  CHECK(sql[1] ==
        "CREATE TABLE \"public\".\"events_acme\" (LIKE \"public\".\"events\" INCLUDING DEFAULTS "
        "INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS INCLUDING STATISTICS "
        "INCLUDING GENERATED) PARTITION BY RANGE (\"event_ts\")");
  CHECK(sql[2] == "ALTER TABLE \"public\".\"events_acme\" OWNER TO \"app\"");
  CHECK(sql[3] ==
        "CREATE INDEX \"events_acme_events_id_idx\" ON \"public\".\"events_acme\" USING btree "
        "(\"id\")");
  const auto has = [&](const std::string& statement) {
    return std::find(sql.begin(), sql.end(), statement) != sql.end();
  };
  CHECK(
      has("ALTER TABLE \"public\".\"events_acme\" ATTACH PARTITION "
          "\"public\".\"events_acme_default\" DEFAULT"));
  // Today (2026-12-02) and premake 7 days ahead, before the tenant is attached.
  for (const char* day : {"20261202", "20261209"}) {
    CHECK(
        has("ALTER TABLE \"public\".\"events_acme\" ATTACH PARTITION "
            "\"public\".\"events_acme_p" +
            std::string(day) + "\" FOR VALUES FROM ('2026-12-0" + day[7] +
            " 00:00:00+00') TO ('2026-12-" + (day[7] == '2' ? "03" : "10") + " 00:00:00+00')"));
  }
  CHECK(sql[sql.size() - 2] ==
        "ALTER TABLE \"public\".\"events\" ATTACH PARTITION \"public\".\"events_acme\" FOR "
        "VALUES IN ('acme')");
  REQUIRE(plan.tenants.size() == 2);
  CHECK(plan.tenants[1].partition == QualifiedName{"public", "events_globex"});
  CHECK_FALSE(plan.tenants[1].exists);

  const Policy sub_tree = sub_tree_policy(Policy{"p", "ns", 1, spec}, plan.tenants[0]);
  CHECK(sub_tree.spec.table == QualifiedName{"public", "events_acme"});
  CHECK_FALSE(sub_tree.spec.list);
  CHECK(sub_tree.spec.indexes[0].name == "events_acme_events_id_idx");
}

TEST_CASE(
    "list plan: a value's rows in DEFAULT move in the transaction that creates its partition") {
  ObservedListTable table = events_by_tenant();
  table.partitions.push_back({{"public", "events_default"}, true, {}, false, "", ""});
  table.default_rows = {{"acme", 3}, {"zeta", 2}};
  const ListPlan plan = plan_of(list_spec("  defaultPartition: {enabled: true}\n"), table,
                                values({"acme", "globex"}), {});
  REQUIRE(plan.plan.actions.size() == 2);
  const Action& acme = plan.plan.actions[0];
  CHECK(acme.summary == "create public.events_acme for 'acme', moving 3 row(s) from DEFAULT");
  REQUIRE(acme.moved_rows_statement);
  CHECK(acme.statements[*acme.moved_rows_statement].find(
            "DELETE FROM ONLY \"public\".\"events_default\" WHERE \"tenant_id\" = 'acme'") !=
        std::string::npos);
  CHECK(acme.locks.size() == 2);
  CHECK_FALSE(plan.plan.actions[1].moved_rows_statement);
  CHECK(plan.plan.figures.default_rows == 5);
}

TEST_CASE("list plan: a tenant's problem is its own, existing partitions are kept") {
  ObservedListTable table = events_by_tenant();
  table.partitions.push_back({{"public", "events_old"}, false, {"retired"}, false, "", ""});
  table.partitions.push_back(
      {{"public", "events_acme"}, false, {"acme"}, true, "range", "event_ts"});
  table.default_rows = {{"globex", 1}};
  table.partitions.push_back({{"public", "events_default"}, true, {}, false, "", ""});
  const ListPlan plan = plan_of(list_spec(kSubTrees + "  defaultPartition: {drain: false}\n"),
                                table, values({"acme", "globex", "initech"}), {"events_initech"});
  REQUIRE(plan.tenants.size() == 3);
  CHECK(plan.tenants[0].exists);
  CHECK(plan.tenants[0].sub_tree);
  REQUIRE(plan.tenants[1].problem);
  CHECK(plan.tenants[1].problem->reason == "RowsInDefault");
  REQUIRE(plan.tenants[2].problem);
  CHECK(plan.tenants[2].problem->reason == "PartitionNameTaken");
  for (const Action& action : plan.plan.actions)
    CHECK(action.kind != ActionKind::kCreateListPartition);
  CHECK(plan.values_without_source == std::vector<std::string>{"retired"});
  REQUIRE(plan.plan.findings.size() == 1);
  CHECK(plan.plan.findings[0].reason == "ValuesWithoutSource");
  CHECK(plan.plan.findings[0].severity == Finding::Severity::kInfo);
}

TEST_CASE("list plan: what the table or the spec gets wrong blocks with the field named") {
  ObservedListTable range = events_by_tenant();
  range.parent.strategy = "range";
  CHECK(plan_of(list_spec(""), range, values({}), {}).plan.findings[0].reason ==
        "UnsupportedPartitionKey");
  ObservedListTable other_column = events_by_tenant();
  other_column.parent.key_column = "region";
  CHECK(plan_of(list_spec(""), other_column, values({}), {}).plan.findings[0].message ==
        "spec.list.column: public.events is partitioned by list on region, not tenant_id");
  ObservedListTable no_time_key = events_by_tenant();
  no_time_key.time_key_type_name = "";
  CHECK(plan_of(list_spec(kSubTrees), no_time_key, values({}), {}).plan.findings[0].message ==
        "spec.timeKey: column event_ts does not exist in public.events");
  CHECK(plan_of(list_spec("  indexes: [{name: u, columns: [id], unique: true}]\n"),
                events_by_tenant(), values({}), {})
            .plan.findings[0]
            .message.find("spec.indexes[0].unique:") == 0);
  SourceValues unreadable;
  unreadable.reason = "ValuesSourceNotFound";
  unreadable.error = "spec.list.valuesFrom: relation \"public.tenants\" does not exist";
  const ListPlan plan = plan_of(list_spec(""), events_by_tenant(), unreadable, {});
  CHECK(plan.plan.blocked());
  CHECK(plan.plan.actions.empty());
}

TEST_CASE("tenant partition names: the value when it is a plain word, else a word and a hash") {
  CHECK(tenant_partition_name("events", "acme") == "events_acme");
  const std::string odd = tenant_partition_name("events", "Acme Corp.");
  CHECK(odd.rfind("events_acme_corp__", 0) == 0);
  CHECK(odd != tenant_partition_name("events", "acme corp."));
  CHECK(tenant_partition_name("events", "").rfind("events__", 0) == 0);
  const std::string long_table(60, 't');
  const std::string name =
      tenant_partition_name(long_table, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  CHECK(name.size() <= 51);
  CHECK(name != tenant_partition_name(long_table, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12"));
}

}  // namespace partop
