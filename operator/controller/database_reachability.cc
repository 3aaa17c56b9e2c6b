#include "operator/controller/database_reachability.h"

#include <thread>

#include "operator/runtime/informer.h"
#include "operator/runtime/log.h"
#include "reconcilers/partition/policy_parser.h"

namespace partop::controller {

using nlohmann::json;

const runtime::Resource& database_reachability() {
  static const runtime::Resource resource{"/partop/postgresql", "databasereachability"};
  return resource;
}

std::vector<std::string> policies_of_database(const json* answer) {
  std::vector<std::string> keys;
  if (answer == nullptr) return keys;
  for (const auto& key : answer->value("policies", json::array())) keys.push_back(key);
  return keys;
}

DatabaseReachability::DatabaseReachability(const runtime::ObjectStore& policies,
                                           const PolicyBackend& backend,
                                           DatabaseConnector& connector,
                                           std::chrono::milliseconds interval)
    : policies_(policies), backend_(backend), connector_(connector), interval_(interval) {}

void DatabaseReachability::add_handler(Handler handler) {
  handlers_.push_back(std::move(handler));
}

std::map<std::string, std::vector<std::string>> DatabaseReachability::databases() const {
  std::map<std::string, std::vector<std::string>> out;
  policies_.for_each([&](const json& object) {
    const ParsedPolicy parsed = parse_policy(object);
    if (!parsed.ok()) return;  // the policy's own reconcile reports why
    const ResolvedDsn dsn = backend_.resolve_dsn(object, parsed.policy->spec.database_ref);
    if (dsn.dsn) out[*dsn.dsn].push_back(runtime::object_key(object));
  });
  return out;
}

void DatabaseReachability::probe_all() {
  std::map<std::string, json> seen;
  for (const auto& [dsn, policies] : databases()) {
    const std::string database = redact_dsn(dsn);
    json answer = {{"database", database}, {"reachable", true}, {"policies", policies}};
    try {
      connector_.connect(dsn, std::chrono::milliseconds(0))->query("SELECT 1");
    } catch (const DatabaseError& error) {
      answer["reachable"] = false;
      answer["error"] = error.what();
    }
    const auto before = answers_.get(database);
    const bool changed =
        before ? (*before)["reachable"] != answer["reachable"] : !answer["reachable"].get<bool>();
    if (changed) {
      runtime::log(
          answer["reachable"].get<bool>() ? runtime::LogLevel::kInfo : runtime::LogLevel::kWarning,
          answer["reachable"].get<bool>() ? "database reachable again" : "database unreachable",
          {{"database", database},
           {"policies", policies.size()},
           {"error", answer.value("error", "")}});
      for (const auto& handler : handlers_) handler(database, &answer);
    }
    seen[database] = std::move(answer);
  }
  answers_.replace(std::move(seen));
}

void DatabaseReachability::run(const std::atomic<bool>& stop) {
  while (!stop) {
    const auto next = std::chrono::steady_clock::now() + interval_;
    probe_all();
    while (!stop && std::chrono::steady_clock::now() < next)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace partop::controller
