#include "operator/controller/list_value_notifications.h"

#include <memory>
#include <thread>

#include "operator/runtime/informer.h"
#include "operator/runtime/log.h"
#include "operator/runtime/table_claims.h"
#include "reconcilers/partition/policy_parser.h"

namespace partop::controller {
namespace {

using nlohmann::json;
using runtime::log;
using runtime::LogLevel;

// The tables whose notices concern a list policy: its source of values and its own table.
std::vector<std::string> tables_of(const Policy& policy) {
  std::vector<std::string> tables = {policy.spec.table.display()};
  if (policy.spec.list && policy.spec.list->values_from)
    tables.push_back(policy.spec.list->values_from->table.display());
  return tables;
}

// The object as a list policy, or nullopt: range policies (most of them) are passed over without
// being parsed, as this runs for every policy at every rescan and every notice.
std::optional<Policy> list_policy(const json& object) {
  const auto spec = object.find("spec");
  if (spec == object.end() || !spec->is_object() || !spec->contains("list")) return std::nullopt;
  ParsedPolicy parsed = parse_policy(object);
  if (!parsed.ok()) return std::nullopt;
  return std::move(parsed.policy);
}

}  // namespace

const runtime::Resource& list_value_notices() {
  static const runtime::Resource resource{"/partop/postgresql", "listvaluenotices"};
  return resource;
}

std::vector<std::string> list_policies_for_table(const runtime::ObjectStore& policies,
                                                 const std::string& table) {
  const std::string wanted = runtime::qualified_table(table);
  std::vector<std::string> keys;
  policies.for_each([&](const json& object) {
    const auto policy = list_policy(object);
    if (!policy) return;
    for (const auto& name : tables_of(*policy)) {
      if (name == wanted) {
        keys.push_back(runtime::object_key(object));
        return;
      }
    }
  });
  return keys;
}

ListValueNotifications::ListValueNotifications(const runtime::ObjectStore& policies,
                                               const PolicyBackend& backend,
                                               NotificationConnector& connector,
                                               std::chrono::milliseconds rescan)
    : policies_(policies), backend_(backend), connector_(connector), rescan_(rescan) {}

void ListValueNotifications::add_handler(Handler handler) {
  handlers_.push_back(std::move(handler));
}

std::map<std::string, std::set<std::string>> ListValueNotifications::wanted() const {
  std::map<std::string, std::set<std::string>> out;
  policies_.for_each([&](const json& object) {
    const auto policy = list_policy(object);
    if (!policy) return;
    const ResolvedDsn dsn = backend_.resolve_dsn(object, policy->spec.database_ref);
    if (!dsn.dsn) return;  // the policy's own reconcile reports why
    for (const auto& table : tables_of(*policy)) out[*dsn.dsn].insert(table);
  });
  return out;
}

void ListValueNotifications::deliver(const std::string& table) {
  const std::string key = runtime::qualified_table(table);
  const json notice = notices_.update(key, [&](const json* last) -> json {
    const int64_t count = last != nullptr ? last->value("count", int64_t{0}) : 0;
    return {{"table", key}, {"count", count + 1}};
  });
  for (const auto& handler : handlers_) handler(key, &notice);
}

void ListValueNotifications::listen(const std::string& dsn, const std::atomic<bool>& stop,
                                    const std::atomic<bool>& unwanted) {
  std::chrono::milliseconds backoff{500};
  const auto done = [&] { return stop || unwanted; };
  while (!done()) {
    try {
      const auto listener = connector_.listen(dsn, std::string(kListValuesChannel));
      backoff = std::chrono::milliseconds{500};
      std::set<std::string> tables;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        tables = tables_[dsn];
      }
      for (const auto& table : tables) deliver(table);  // what was missed while not listening
      while (!done()) {
        if (auto payload = listener->wait(std::chrono::milliseconds(500))) deliver(*payload);
      }
    } catch (const std::exception& error) {  // a lost connection, or a bug: never fatal here
      log(LogLevel::kWarning, "listening for list values failed; retrying",
          {{"error", error.what()}, {"retryInSeconds", backoff.count() / 1000.0}});
      for (auto waited = std::chrono::milliseconds{0}; waited < backoff && !done();
           waited += std::chrono::milliseconds{100}) {
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds{30000});
    }
  }
}

void ListValueNotifications::run(const std::atomic<bool>& stop) {
  struct Listening {
    std::unique_ptr<std::atomic<bool>> unwanted;
    std::thread thread;
  };
  std::map<std::string, Listening> listening;  // by database URI
  while (!stop) {
    const auto databases = wanted();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tables_ = databases;
    }
    for (auto it = listening.begin(); it != listening.end();) {
      if (databases.count(it->first)) {
        ++it;
        continue;
      }
      *it->second.unwanted = true;
      it->second.thread.join();
      it = listening.erase(it);
    }
    for (const auto& [dsn, tables] : databases) {
      if (listening.count(dsn)) continue;
      Listening& entry = listening[dsn];
      entry.unwanted = std::make_unique<std::atomic<bool>>(false);
      entry.thread = std::thread([this, dsn = dsn, &stop, unwanted = entry.unwanted.get()] {
        listen(dsn, stop, *unwanted);
      });
    }
    for (auto waited = std::chrono::milliseconds{0}; waited < rescan_ && !stop;
         waited += std::chrono::milliseconds{100}) {
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }
  for (auto& [dsn, entry] : listening) entry.thread.join();
}

}  // namespace partop::controller
