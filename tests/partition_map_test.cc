// The partition map notification: every change to the partition set is announced with
// NOTIFY partop_partition_map, '<schema.table>', delivered at commit, so routers can reload.
#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <vector>

#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

class Collector : public pqxx::notification_receiver {
 public:
  Collector(pqxx::connection_base& connection, std::vector<std::string>& payloads)
      : pqxx::notification_receiver(connection, "partop_partition_map"), payloads_(payloads) {}
  void operator()(const std::string& payload, int) override { payloads_.push_back(payload); }

 private:
  std::vector<std::string>& payloads_;
};

}  // namespace

TEST_CASE("each committed partition change sends NOTIFY partop_partition_map, a no-op sends none") {
  TestDatabase db;
  db.exec("CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)");
  db.exec("CREATE TABLE events_default PARTITION OF events DEFAULT");
  pqxx::connection listener(db.dsn());
  std::vector<std::string> payloads;
  Collector collector(listener, payloads);
  const Policy policy = make_policy("  table: events\n  interval: daily\n  premake: 2\n");
  REQUIRE(apply_policy(db, policy).ready());
  while (listener.await_notification(1, 0) > 0) {
  }
  // The partition holding now, then the two ahead: two commits, one notification each.
  CHECK(payloads.size() == 2);
  for (const auto& payload : payloads) CHECK(payload == "\"public\".\"events\"");
  payloads.clear();
  REQUIRE(apply_policy(db, policy).ready());
  listener.await_notification(1, 0);
  CHECK(payloads.empty());
}

TEST_CASE("the NOTIFY payload casts to the table's regclass, whatever the case of its name") {
  TestDatabase db;
  db.exec("CREATE TABLE \"Audit\" (at date NOT NULL) PARTITION BY RANGE (at)");
  db.exec("CREATE TABLE audit (at date NOT NULL)");  // what an unquoted payload would name
  pqxx::connection listener(db.dsn());
  std::vector<std::string> payloads;
  Collector collector(listener, payloads);
  REQUIRE(
      apply_policy(db, make_policy("  table: Audit\n  interval: daily\n  premake: 1\n")).ready());
  while (listener.await_notification(1, 0) > 0) {
  }
  REQUIRE_FALSE(payloads.empty());
  for (const auto& payload : payloads) {
    CHECK(db.scalar("SELECT ('" + payload + "'::regclass = '\"Audit\"'::regclass)::text") ==
          "true");
  }
}

}  // namespace partop::testing
