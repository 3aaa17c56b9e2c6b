// ListValueNotifications with a scripted NotificationConnector: which databases it listens to,
// what a notice maps to, and what a lost connection costs. That LISTEN/NOTIFY itself works is
// proved against PostgreSQL (tests/list_partitions_test.cc).
#include "operator/controller/list_value_notifications.h"

#include <doctest/doctest.h>

#include <deque>
#include <thread>

#include "reconcilers/partition/db_session.h"
#include "tests/support/eventually.h"
#include "tests/support/memory_store.h"

namespace partop::controller {
namespace {

using nlohmann::json;
using testing::eventually;

// Payloads a test sends, per database; `drop` makes the next wait() lose the connection.
class ScriptedConnector : public NotificationConnector {
 public:
  class Listener : public NotificationListener {
   public:
    Listener(ScriptedConnector& owner, std::string dsn) : owner_(owner), dsn_(std::move(dsn)) {}
    std::optional<std::string> wait(std::chrono::milliseconds) override {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      std::lock_guard<std::mutex> lock(owner_.mutex_);
      if (owner_.drop_) {
        owner_.drop_ = false;
        throw DatabaseError("server closed the connection unexpectedly", "");
      }
      auto& queue = owner_.payloads_[dsn_];
      if (queue.empty()) return std::nullopt;
      std::string payload = queue.front();
      queue.pop_front();
      return payload;
    }

   private:
    ScriptedConnector& owner_;
    std::string dsn_;
  };

  std::unique_ptr<NotificationListener> listen(const std::string& dsn,
                                               const std::string& channel) override {
    std::lock_guard<std::mutex> lock(mutex_);
    CHECK(channel == kListValuesChannel);
    ++connects_[dsn];
    return std::make_unique<Listener>(*this, dsn);
  }
  void notify(const std::string& dsn, const std::string& payload) {
    std::lock_guard<std::mutex> lock(mutex_);
    payloads_[dsn].push_back(payload);
  }
  void drop() {
    std::lock_guard<std::mutex> lock(mutex_);
    drop_ = true;
  }
  int connects(const std::string& dsn) {
    std::lock_guard<std::mutex> lock(mutex_);
    return connects_[dsn];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::deque<std::string>> payloads_;
  std::map<std::string, int> connects_;
  bool drop_ = false;
};

json policy(const std::string& name, const std::string& spec) {
  return {{"metadata", {{"name", name}, {"namespace", "app"}}},
          {"apiVersion", "partop.dev/v1alpha1"},
          {"kind", "PartitionPolicy"},
          {"spec", json::parse(spec)}};
}

// Counts the notices per table the source hands its handlers.
struct Heard {
  std::mutex mutex;
  std::map<std::string, int> tables;
  int count(const std::string& table) {
    std::lock_guard<std::mutex> lock(mutex);
    return tables[table];
  }
};

}  // namespace

TEST_CASE("list value notices: one listener per database of list policies, mapped to them") {
  testing::MemoryStore policies;
  policies.put(policy("events", R"({"table": "events", "list": {"column": "tenant_id",
      "valuesFrom": {"table": "crm.tenants", "column": "id"}}})"));
  policies.put(policy("orders", R"({"table": "orders", "list": {"column": "region",
      "values": ["eu"]}})"));
  policies.put(policy("ranged", R"({"table": "metrics", "interval": "daily"})"));
  const FixedDsnBackend backend("postgresql://db/app");
  ScriptedConnector connector;
  ListValueNotifications notices(policies, backend, connector, std::chrono::milliseconds(50));
  Heard heard;
  notices.add_handler([&](const std::string& key, const json* object) {
    REQUIRE(object != nullptr);
    std::lock_guard<std::mutex> lock(heard.mutex);
    ++heard.tables[key];
  });
  std::atomic<bool> stop{false};
  std::thread running([&] { notices.run(stop); });

  // On connecting, every table the database's list policies read is delivered once.
  CHECK(eventually([&] { return heard.count("crm.tenants") == 1; }));
  CHECK(eventually([&] { return heard.count("public.events") == 1; }));
  CHECK(eventually([&] { return heard.count("public.orders") == 1; }));
  CHECK(heard.count("public.metrics") == 0);

  connector.notify("postgresql://db/app", "crm.tenants");
  CHECK(eventually([&] { return heard.count("crm.tenants") == 2; }));
  CHECK(list_policies_for_table(policies, "crm.tenants") == std::vector<std::string>{"app/events"});
  CHECK(list_policies_for_table(policies, "orders") == std::vector<std::string>{"app/orders"});
  CHECK(list_policies_for_table(policies, "metrics").empty());
  CHECK(notices.store().get("crm.tenants")->value("count", 0) == 2);

  // A lost connection: reconnected, and what may have been missed delivered again.
  connector.drop();
  CHECK(eventually([&] { return connector.connects("postgresql://db/app") == 2; }));
  CHECK(eventually([&] { return heard.count("crm.tenants") == 3; }));
  CHECK(connector.connects("postgresql://db/app") == 2);  // one listener per database
  stop = true;
  running.join();
}

}  // namespace partop::controller
