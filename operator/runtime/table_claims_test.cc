// The claim rule over many objects: only objects naming the table compete, and the earliest one
// in the same database owns it.
#include "operator/runtime/table_claims.h"

#include <doctest/doctest.h>

#include "tests/support/memory_store.h"

namespace partop::runtime {
namespace {

using nlohmann::json;

json claimant(const std::string& name, const std::string& created, const std::string& table,
              const std::string& database) {
  return {{"metadata", {{"name", name}, {"namespace", "app"}, {"creationTimestamp", created}}},
          {"spec", {{"table", table}, {"database", database}}}};
}

ClaimingKind policies_in(const ObjectStore& store) {
  return {"PartitionPolicy", "layout",
          [&store](const std::string& table, const std::function<void(const json&)>& visit) {
            store.for_each_indexed(table_index(), table, visit);
          },
          [](const json& object) -> std::optional<std::string> {
            return object["spec"]["database"].get<std::string>();
          }};
}

TEST_CASE("a table written without its schema is the public schema's") {
  CHECK(same_table("events", "public.events"));
  CHECK(same_table("public.events", "public.events"));
  CHECK(same_table("app.events", "app.events"));
  CHECK_FALSE(same_table("events", "app.events"));
  CHECK_FALSE(same_table("app.events", "public.events"));
  CHECK_FALSE(same_table("event", "public.events"));
  CHECK_FALSE(same_table("events", "publicXevents"));
}

TEST_CASE("the table index files a table written without its schema under the public schema") {
  CHECK(table_index().values_of(claimant("a", "", "events", "db")) ==
        std::vector<std::string>{"public.events"});
  CHECK(table_index().values_of(claimant("a", "", "app.events", "db")) ==
        std::vector<std::string>{"app.events"});
  CHECK(table_index().values_of(json{{"spec", {{"table", 7}}}}).empty());
  CHECK(table_index().values_of(json{{"metadata", {{"name", "a"}}}}).empty());
}

TEST_CASE("the earliest claimant of the table in the same database owns it, whatever comes first") {
  testing::MemoryStore store;
  TableClaims claims;
  claims.add_kind(policies_in(store));
  // The same table name in other databases, earlier and later, and other tables.
  store.put(claimant("a-other-db", "2026-01-01T00:00:00Z", "events", "db2"));
  store.put(claimant("b-other-table", "2026-01-01T00:00:00Z", "public.usage", "db1"));
  store.put(claimant("c-second", "2026-01-03T00:00:00Z", "public.events", "db1"));
  store.put(claimant("d-first", "2026-01-02T00:00:00Z", "events", "db1"));
  const json asking = claimant("e-asking", "2026-01-04T00:00:00Z", "events", "db1");
  store.put(asking);

  CHECK(claims.owner_other_than("PartitionPolicy", asking, "public.events", "db1") ==
        "PartitionPolicy app/d-first");
  // The earliest one is owned by nobody else; a database with one claimant has no owner.
  CHECK_FALSE(claims.owner_other_than("PartitionPolicy", store.get("app/d-first").value(),
                                      "public.events", "db1"));
  CHECK_FALSE(claims.owner_other_than("PartitionPolicy", store.get("app/a-other-db").value(),
                                      "public.events", "db2"));

  // The owner moves to another table: the next earliest claimant owns this one.
  store.put(claimant("d-first", "2026-01-02T00:00:00Z", "public.usage_v2", "db1"));
  CHECK(claims.owner_other_than("PartitionPolicy", asking, "public.events", "db1") ==
        "PartitionPolicy app/c-second");
  store.erase("app/c-second");
  CHECK_FALSE(claims.owner_other_than("PartitionPolicy", asking, "public.events", "db1"));
}

}  // namespace
}  // namespace partop::runtime
