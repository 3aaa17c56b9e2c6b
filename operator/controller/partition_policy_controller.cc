#include "operator/controller/partition_policy_controller.h"

#include <algorithm>

#include "operator/controller/policy_status.h"
#include "operator/kube/base64.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/log.h"
#include "reconcilers/partition/policy_parser.h"
#include "reconcilers/partition/reconciler.h"

namespace partop::controller {
namespace {

using nlohmann::json;
using runtime::log;
using runtime::LogLevel;

constexpr std::chrono::seconds kSecretRetry{30};
constexpr std::chrono::seconds kConflictRetry{30};

// Reasons that need a human; the policy is looked at again at its resync interval.
bool is_stalled(const Outcome& outcome) {
  const Condition* stalled = outcome.condition("Stalled");
  return stalled != nullptr && stalled->status == "True";
}

std::string policy_path(const std::string& ns, const std::string& name) {
  return std::string("/apis/") + kGroupVersion + "/namespaces/" + ns + "/" + kPolicyResource + "/" +
         name;
}

// Normal events for what a reconcile applied, one per kind of change.
std::vector<std::pair<std::string, std::string>> normal_events(const Outcome& outcome) {
  std::map<std::string, int> counts;
  for (ActionKind kind : outcome.applied_kinds) {
    switch (kind) {
      case ActionKind::kCreateDefault:
      case ActionKind::kCreatePartition:
        ++counts["PartitionsCreated"];
        break;
      case ActionKind::kDrainDefault:
        ++counts["DefaultDrained"];
        break;
      case ActionKind::kBuildPartitionIndex:
      case ActionKind::kRebuildIndex:
      case ActionKind::kCreateParentIndex:
        ++counts["IndexRebuilt"];
        break;
      case ActionKind::kDropPartition:
      case ActionKind::kDetachPartition:
        ++counts["RetentionApplied"];
        break;
      case ActionKind::kAttachPartitionIndex:
        break;
    }
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [reason, count] : counts) {
    std::string message;
    if (reason == "PartitionsCreated") message = std::to_string(count) + " partition(s) created";
    if (reason == "DefaultDrained") {
      message = std::to_string(outcome.rows_drained) + " row(s) moved from DEFAULT into " +
                std::to_string(count) + " new partition(s)";
    }
    if (reason == "IndexRebuilt") message = std::to_string(count) + " index(es) built or rebuilt";
    if (reason == "RetentionApplied")
      message = std::to_string(count) + " expired partition(s) removed";
    out.emplace_back(reason, message + " on " + outcome.table);
  }
  return out;
}

std::string guard_name(const std::string& reason) {
  if (reason == "LockTimeout") return "lock";
  if (reason == "ReplicationLagHigh") return "replication_lag";
  if (reason == "StorageQuotaExceeded") return "storage";
  if (reason == "Busy") return "advisory_lock";
  return "";
}

}  // namespace

PartitionPolicyController::PartitionPolicyController(
    kube::Client& client, const runtime::ObjectStore& policies, const runtime::ObjectStore& secrets,
    DatabaseConnector& connector, const Clock& clock, runtime::EventRecorder& events,
    runtime::Metrics& metrics, StopRequested stop_requested)
    : client_(client),
      policies_(policies),
      secrets_(secrets),
      connector_(connector),
      clock_(clock),
      events_(events),
      metrics_(metrics),
      stop_requested_(std::move(stop_requested)) {}

PartitionPolicyController::ResolvedDsn PartitionPolicyController::resolve_dsn(
    const json& object, const Policy& policy) const {
  if (!policy.spec.database_ref)
    return {std::nullopt, "spec.databaseRef is required in Kubernetes"};
  const std::string ns = object["metadata"].value("namespace", "default");
  const DatabaseRef& ref = *policy.spec.database_ref;
  const auto secret = secrets_.get(ns + "/" + ref.secret_name);
  if (!secret) return {std::nullopt, "Secret " + ns + "/" + ref.secret_name + " not found"};
  const json data = secret->value("data", json::object());
  if (!data.contains(ref.key) || !data[ref.key].is_string()) {
    return {std::nullopt,
            "Secret " + ns + "/" + ref.secret_name + " has no key \"" + ref.key + "\""};
  }
  auto dsn = kube::base64_decode(data[ref.key].get<std::string>());
  if (!dsn || dsn->empty()) {
    return {std::nullopt, "Secret " + ns + "/" + ref.secret_name + " key \"" + ref.key +
                              "\" is empty or not base64"};
  }
  while (!dsn->empty() && (dsn->back() == '\n' || dsn->back() == '\r')) dsn->pop_back();
  return {dsn, ""};
}

std::optional<std::string> PartitionPolicyController::conflicting_owner(
    const json& object, const Policy& policy, const std::string& dsn) const {
  // The database is identified by its DSN without the password; the earliest policy (by
  // creation time, then key) keeps the table.
  const std::string database = redact_dsn(dsn);
  const auto rank = [](const json& o) {
    return std::make_pair(o["metadata"].value("creationTimestamp", ""), runtime::object_key(o));
  };
  const auto mine = rank(object);
  // Cheap first: only objects naming the same table (by text) are parsed and their Secret
  // resolved, so a reconcile costs O(policies) string comparisons, not O(policies) parses.
  const std::string table = policy.spec.table.display();
  std::vector<json> candidates;
  policies_.for_each([&](const json& other) {
    std::string name = other.value("spec", json::object()).value("table", "");
    if (name.find('.') == std::string::npos) name = "public." + name;
    if (name == table && runtime::object_key(other) != runtime::object_key(object)) {
      candidates.push_back(other);
    }
  });
  std::optional<std::pair<std::string, std::string>> owner;
  for (const json& other : candidates) {
    const auto theirs = rank(other);
    if (!(theirs < mine) || (owner && !(theirs < *owner))) continue;
    const ParsedPolicy parsed = parse_policy(other);
    if (!parsed.ok()) continue;
    const ResolvedDsn other_dsn = resolve_dsn(other, *parsed.policy);
    if (other_dsn.dsn && redact_dsn(*other_dsn.dsn) == database) owner = theirs;
  }
  if (!owner) return std::nullopt;
  return owner->second;
}

Outcome PartitionPolicyController::run_engine(const Policy& policy, const std::string& dsn) {
  try {
    const auto session = connector_.connect(dsn, policy.spec.guards.lock_timeout);
    return PartitionReconciler(clock_, stop_requested_)
        .reconcile(*session, policy, ReconcileMode::kApply);
  } catch (const DatabaseError& error) {
    return unavailable_outcome(policy, "DatabaseUnavailable", error.what());
  }
}

ReconcileResult PartitionPolicyController::reconcile(const std::string& key) {
  const auto object = policies_.get(key);
  if (!object) {  // deleted: nothing is done to the database
    const auto slash = key.find('/');
    metrics_.remove_policy(key.substr(0, slash), key.substr(slash + 1));
    return {};
  }
  const json& metadata = (*object)["metadata"];
  if (metadata.contains("deletionTimestamp")) return {};
  const std::string ns = metadata.value("namespace", "default");
  const std::string name = metadata.value("name", "");
  const int64_t generation = metadata.value("generation", int64_t{0});

  const ParsedPolicy parsed = parse_policy(*object);
  Outcome outcome;
  ReconcileResult result;
  if (!parsed.ok()) {
    outcome = invalid_spec_outcome(key, parsed.error_summary());
    result = {ReconcileResult::Next::kForget, {}};
  } else {
    const Policy& policy = *parsed.policy;
    const ResolvedDsn dsn = resolve_dsn(*object, policy);
    if (!dsn.dsn) {
      outcome = unavailable_outcome(policy, "SecretNotFound", dsn.problem);
      result = {ReconcileResult::Next::kRequeueAfter, kSecretRetry};
    } else if (auto owner = conflicting_owner(*object, policy, *dsn.dsn)) {
      outcome = conflict_outcome(policy, "table " + policy.spec.table.display() +
                                             " of this database is already managed by " + *owner +
                                             "; this policy runs no DDL");
      result = {ReconcileResult::Next::kRequeueAfter, kConflictRetry};
    } else {
      outcome = run_engine(policy, *dsn.dsn);
      if (outcome.retry_with_backoff) {
        result = {ReconcileResult::Next::kBackoff, {}};
      } else {
        result = {ReconcileResult::Next::kRequeueAfter, policy.spec.schedule.resync_interval};
      }
    }
    if (is_stalled(outcome) && result.next == ReconcileResult::Next::kBackoff) {
      result = {ReconcileResult::Next::kRequeueAfter, policy.spec.schedule.resync_interval};
    }
  }

  write_status(*object, outcome, generation);
  record_events(*object, outcome);
  if (!outcome.partitions.empty()) write_partition_map(*object, outcome);
  record_metrics(ns, name, outcome);
  log(outcome.ready() ? LogLevel::kInfo : LogLevel::kWarning, "reconciled",
      {{"namespace", ns},
       {"policy", name},
       {"table", outcome.table},
       {"ready", outcome.ready()},
       {"reason", outcome.ready_reason()},
       {"message", outcome.condition("Ready") ? outcome.condition("Ready")->message : ""},
       {"actions", outcome.actions_taken.size()}});
  return result;
}

void PartitionPolicyController::write_status(const json& object, const Outcome& outcome,
                                             int64_t generation) {
  const json& metadata = object["metadata"];
  const json previous = object.value("status", json());
  const json status = build_status(previous, outcome, generation, runtime::rfc3339_now());
  if (!status_changed(previous, status)) return;
  const kube::Response response = client_.request(
      kube::Method::kPatch,
      policy_path(metadata.value("namespace", "default"), metadata.value("name", "")) + "/status",
      json{{"status", status}}, kube::kMergePatch);
  if (!response.ok()) {
    log(LogLevel::kWarning, "cannot write status",
        {{"policy", runtime::object_key(object)},
         {"status", response.status},
         {"error", response.error}});
  }
}

void PartitionPolicyController::record_events(const json& object, const Outcome& outcome) {
  for (const auto& [reason, message] : normal_events(outcome))
    events_.record(object, "Normal", reason, message);
  if (!outcome.ready()) {
    const Condition* ready = outcome.condition("Ready");
    if (ready != nullptr && ready->reason != "Suspended" && ready->reason != "ShuttingDown") {
      events_.record(object, "Warning", ready->reason, ready->message);
    }
  }
  for (const auto& finding : outcome.findings) {
    if (finding.reason == "StorageQuotaExceeded")
      events_.record(object, "Warning", finding.reason, finding.message);
  }
}

void PartitionPolicyController::write_partition_map(const json& object, const Outcome& outcome) {
  const json& metadata = object["metadata"];
  const std::string ns = metadata.value("namespace", "default");
  const std::string name = metadata.value("name", "") + "-partitions";
  json partitions = json::array();
  for (const auto& partition : outcome.partitions) {
    json entry = {{"name", partition.name.display()}};
    if (partition.is_default) {
      entry["default"] = true;
    } else if (outcome.key_type) {
      entry["from"] = key_display(*outcome.key_type, partition.lower);
      entry["to"] = key_display(*outcome.key_type, partition.upper);
    }
    partitions.push_back(entry);
  }
  const json data = {{"table", outcome.table}, {"partitions.json", partitions.dump(2)}};
  const std::string key = ns + "/" + name;
  {
    std::lock_guard<std::mutex> lock(partition_maps_mutex_);
    if (partition_maps_[key] == data) return;
  }
  const std::string path = "/api/v1/namespaces/" + ns + "/configmaps";
  kube::Response response = client_.request(kube::Method::kPatch, path + "/" + name,
                                            json{{"data", data}}, kube::kMergePatch);
  if (response.status == 404) {
    const json config_map = {
        {"apiVersion", "v1"},
        {"kind", "ConfigMap"},
        {"metadata",
         {{"name", name},
          {"namespace", ns},
          {"labels",
           {{"app.kubernetes.io/managed-by", "partop"},
            {"partop.dev/policy", metadata.value("name", "")}}},
          {"ownerReferences", json::array({{{"apiVersion", kGroupVersion},
                                            {"kind", "PartitionPolicy"},
                                            {"name", metadata.value("name", "")},
                                            {"uid", metadata.value("uid", "")},
                                            {"controller", true},
                                            {"blockOwnerDeletion", false}}})}}},
        {"data", data}};
    response = client_.request(kube::Method::kPost, path, config_map);
  }
  if (response.ok()) {
    std::lock_guard<std::mutex> lock(partition_maps_mutex_);
    partition_maps_[key] = data;
  } else {
    log(LogLevel::kWarning, "cannot write partition map",
        {{"configmap", key}, {"status", response.status}, {"error", response.error}});
  }
}

void PartitionPolicyController::record_metrics(const std::string& ns, const std::string& name,
                                               const Outcome& outcome) {
  for (ActionKind kind : outcome.applied_kinds)
    metrics_.ddl_applied(std::string(action_kind_name(kind)));
  const std::string reason = outcome.ready_reason();
  if (reason == "LockTimeout") metrics_.lock_timeout();
  if (const std::string guard = guard_name(reason); !guard.empty()) metrics_.guard_blocked(guard);
  runtime::PolicyFigures figures;
  figures.partitions = outcome.figures.partition_count;
  figures.default_rows = static_cast<double>(outcome.figures.default_rows);
  figures.replication_lag_seconds = outcome.replication_lag_seconds.value_or(0);
  if (outcome.figures.buffered_until && outcome.key_type && is_time_key(*outcome.key_type)) {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
    figures.buffer_seconds = static_cast<double>(*outcome.figures.buffered_until - now);
  }
  metrics_.set_policy(ns, name, figures);
}

std::vector<std::string> PartitionPolicyController::policies_using_secret(
    const std::string& secret_key) const {
  std::vector<std::string> keys;
  policies_.for_each([&](const json& object) {
    const json ref = object.value("spec", json::object()).value("databaseRef", json::object());
    const std::string ns = object["metadata"].value("namespace", "default");
    if (ref.is_object() && ns + "/" + ref.value("secretName", "") == secret_key) {
      keys.push_back(runtime::object_key(object));
    }
  });
  return keys;
}

}  // namespace partop::controller
