#include "operator/controller/kube_policy_backend.h"

#include "operator/controller/partition_map.h"
#include "operator/controller/policy_status.h"
#include "operator/kube/base64.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/log.h"
#include "reconcilers/partition/policy_parser.h"

namespace partop::controller {
namespace {

using nlohmann::json;
using runtime::log;
using runtime::LogLevel;

std::string object_path(const std::string& plural, const std::string& ns, const std::string& name) {
  return std::string("/apis/") + kGroupVersion + "/namespaces/" + ns + "/" + plural + "/" + name;
}

// Normal events for what a reconcile applied, one per kind of change.
std::vector<std::pair<std::string, std::string>> normal_events(const Outcome& outcome) {
  std::map<std::string, int> counts;
  for (ActionKind kind : outcome.applied_kinds) {
    switch (kind) {
      case ActionKind::kCreateDefault:
      case ActionKind::kCreatePartition:
      case ActionKind::kCreateListPartition:
        ++counts["PartitionsCreated"];
        break;
      case ActionKind::kDrainDefault:
        ++counts["DefaultDrained"];
        break;
      case ActionKind::kBuildPartitionIndex:
      case ActionKind::kRebuildIndex:
        ++counts["IndexRebuilt"];
        break;
      case ActionKind::kDropPartition:
      case ActionKind::kDetachPartition:
        ++counts["RetentionApplied"];
        break;
      case ActionKind::kPrepareMigration:
        ++counts["MigrationPrepared"];
        break;
      case ActionKind::kStartSync:
        ++counts["CopyStarted"];
        break;
      case ActionKind::kSwap:
        ++counts["Swapped"];
        break;
      case ActionKind::kFinalizeMigration:
        ++counts["Finalized"];
        break;
      case ActionKind::kSwapPartition:
        ++counts["PartitionSwapped"];
        break;
      case ActionKind::kCreateParentIndex:  // ON ONLY the parent: builds nothing; builds under it
                                            // are kBuildPartitionIndex, reported above
      case ActionKind::kAttachPartitionIndex:
      case ActionKind::kCopyBatch:  // progress is in .status, not one Event per batch
      case ActionKind::kStartBackfill:
      case ActionKind::kFillSlice:
      case ActionKind::kPrepareShadow:
      case ActionKind::kFinishShadow:
      case ActionKind::kSetAsideRebuild:  // reported as a Conflict finding
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
    if (reason == "MigrationPrepared") message = "partitioned twin and its keys created";
    if (reason == "CopyStarted") message = "sync triggers installed, copying rows";
    if (reason == "Swapped" && outcome.migration) {
      message = outcome.migration->phase == "Swapped"
                    ? "the partitioned table now has the table's name"
                    : "rolled back: the original table has its name again";
    }
    if (reason == "PartitionSwapped")
      message = std::to_string(count) + " partition(s) rebuilt and swapped in";
    if (reason == "Finalized") message = "syncing stopped, the other table kept as retired";
    out.emplace_back(reason, message + " on " + outcome.table);
  }
  return out;
}

}  // namespace

KubePolicyBackend::KubePolicyBackend(kube::Client& client, const runtime::ObjectStore& secrets,
                                     std::string instance, const Clock& clock, std::string plural,
                                     Writes writes)
    : client_(client),
      secrets_(secrets),
      plural_(std::move(plural)),
      clock_(clock),
      events_(client, "partop", std::move(instance), clock),
      background_(writes == Writes::kBackground ? std::make_unique<runtime::BackgroundWrites>()
                                                : nullptr) {}

void KubePolicyBackend::write_later(std::string key, std::function<void()> write) {
  if (background_) {
    background_->submit(std::move(key), std::move(write));
  } else {
    write();
  }
}

ResolvedDsn KubePolicyBackend::resolve_dsn(const json& object,
                                           const std::optional<DatabaseRef>& database_ref) const {
  if (!database_ref) return {std::nullopt, "spec.databaseRef is required in Kubernetes"};
  const std::string ns = object["metadata"].value("namespace", "default");
  const DatabaseRef& ref = *database_ref;
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

std::string KubePolicyBackend::report(const json& object, const Outcome& outcome) {
  log_outcome(object, outcome);
  // The partition map is a policy's: a migrating table's map appears once a policy takes over.
  std::optional<json> map;
  if (plural_ == "partitionpolicies" && !outcome.partitions.empty() && outcome.key_type)
    map = partition_map_data(object, outcome);
  const Outcome* reported = &outcome;
  Outcome with_map_condition;
  if (map && map->dump().size() > kMaxPartitionMapBytes) {
    const std::string message =
        "the partition map of " + std::to_string(outcome.partitions.size()) +
        " partitions would exceed the " + std::to_string(kMaxPartitionMapBytes / 1024) +
        " KiB a ConfigMap can carry here; it is not written (partop plan lists them all)";
    log(LogLevel::kWarning, "partition map too large",
        {{"policy", runtime::object_key(object)}, {"bytes", map->dump().size()}});
    with_map_condition = outcome;
    with_map_condition.conditions.push_back(
        {"PartitionMapComplete", "False", "PartitionMapTooLarge", message});
    reported = &with_map_condition;
    write_later("", [this, object, message] {
      events_.record(object, "Warning", "PartitionMapTooLarge", message);
    });
    map.reset();
  }
  const bool status_written = write_status(object, *reported);
  record_events(object, outcome);
  if (map) write_partition_map(object, *map);
  return status_written ? "" : kStatusWriteFailed;
}

bool KubePolicyBackend::write_status(const json& object, const Outcome& outcome) {
  const json& metadata = object["metadata"];
  const int64_t generation = metadata.value("generation", int64_t{0});
  const json previous = object.value("status", json());
  const json status = build_status(previous, outcome, generation, runtime::rfc3339(clock_.now()));
  if (!status_changed(previous, status)) return true;
  const std::string resource = plural_ + "/status";
  const kube::Response response = client_.request(
      kube::Method::kPatch,
      object_path(plural_, metadata.value("namespace", "default"), metadata.value("name", "")) +
          "/status",
      json{{"status", status}}, kube::kMergePatch);
  if (response.ok()) return true;
  if (response.status == 404) return true;  // deleted meanwhile: there is no status to write
  log(LogLevel::kError, "cannot write status",
      {{"object", runtime::object_key(object)},
       {"resource", resource},
       {"status", response.status},
       {"error", response.error}});
  std::string message = "cannot write " + resource + " (HTTP " + std::to_string(response.status) +
                        "): " + response.error;
  if (response.status == 403)
    message += "; the operator's role needs the patch verb on " + resource;
  write_later("", [this, object, message] {
    events_.record(object, "Warning", kStatusWriteFailed, message);
  });
  return false;
}

void KubePolicyBackend::record_events(const json& object, const Outcome& outcome) {
  struct Event {
    std::string type, reason, message;
  };
  std::vector<Event> events;
  for (const auto& [reason, message] : normal_events(outcome))
    events.push_back({"Normal", reason, message});
  if (!outcome.ready()) {
    const Condition* ready = outcome.condition("Ready");
    if (ready != nullptr && ready->reason != "Suspended" && ready->reason != "ShuttingDown" &&
        ready->reason != "InProgress") {
      events.push_back({"Warning", ready->reason, ready->message});
    }
  }
  for (const auto& finding : outcome.findings) {
    if (finding.reason == "StorageQuotaExceeded")
      events.push_back({"Warning", finding.reason, finding.message});
  }
  if (events.empty()) return;
  // Events are never replaced by later ones: each is recorded (or aggregated) in turn.
  write_later("", [this, object, events = std::move(events)] {
    for (const Event& event : events)
      events_.record(object, event.type, event.reason, event.message);
  });
}

json partition_map_data(const json& object, const Outcome& outcome) {
  std::optional<PartitionMapLayout> layout;
  const ParsedPolicy parsed = parse_policy(object);
  if (parsed.ok()) {
    const PolicySpec& spec = parsed.policy->spec;
    layout =
        PartitionMapLayout{spec.interval.unit ? PartitionGrid::time(*spec.interval.unit)
                                              : PartitionGrid::integer(spec.interval.width),
                           spec.interval.text, spec.partition_name_base.value_or(spec.table.name)};
  }
  const json entries = partition_map_entries(outcome.partitions, *outcome.key_type, layout);
  return {{"table", outcome.table},
          {"partitionCount", std::to_string(outcome.partitions.size())},
          {"partitions.json", entries.dump()}};
}

void KubePolicyBackend::write_partition_map(const json& object, const json& data) {
  const json& metadata = object["metadata"];
  const std::string ns = metadata.value("namespace", "default");
  const std::string name = metadata.value("name", "") + "-partitions";
  const std::string key = ns + "/" + name;
  {
    std::lock_guard<std::mutex> lock(partition_maps_mutex_);
    const auto written = partition_maps_.find(key);
    if (written != partition_maps_.end() && written->second == data) return;
  }
  const auto status = object.find("status");
  const bool reported_before = status != object.end() && status->is_object() && !status->empty();
  write_later("configmap:" + key, [this, metadata, ns, name, key, data, reported_before] {
    put_partition_map(metadata, ns, name, key, data, reported_before);
  });
}

void KubePolicyBackend::put_partition_map(const json& metadata, const std::string& ns,
                                          const std::string& name, const std::string& key,
                                          const json& data, bool reported_before) {
  const std::string path = "/api/v1/namespaces/" + ns + "/configmaps";
  const auto patch = [&] {
    return client_.request(kube::Method::kPatch, path + "/" + name, json{{"data", data}},
                           kube::kMergePatch);
  };
  const auto create = [&] {
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
    return client_.request(kube::Method::kPost, path, config_map);
  };
  bool written_before = false;
  {
    std::lock_guard<std::mutex> lock(partition_maps_mutex_);
    written_before = partition_maps_.count(key) > 0;
  }
  // One request in the usual case: a map this process wrote exists; a policy never reported has
  // a new map; the map of a policy reported before (by this process's predecessor, at a
  // restart) most likely exists and holds the same data, and a read costs the API server less
  // than a write that changes nothing.
  const auto holds_data = [&](const json& config_map) {
    const json existing = config_map.value("data", json::object());
    for (const auto& field : data.items()) {
      const auto it = existing.find(field.key());
      if (it == existing.end() || *it != field.value()) return false;
    }
    return true;
  };
  kube::Response response;
  if (written_before) {
    response = patch();
    if (response.status == 404) response = create();
  } else if (reported_before) {
    response = client_.request(kube::Method::kGet, path + "/" + name);
    if (response.status == 404) {
      response = create();
    } else if (!response.ok() || !holds_data(response.body)) {
      response = patch();
      if (response.status == 404) response = create();  // deleted between the two requests
    }
  } else {
    response = create();
    if (response.status == 409) response = patch();
  }
  if (response.ok()) {
    std::lock_guard<std::mutex> lock(partition_maps_mutex_);
    partition_maps_[key] = data;
  } else {
    log(LogLevel::kWarning, "cannot write partition map",
        {{"configmap", key}, {"status", response.status}, {"error", response.error}});
  }
}

std::vector<std::string> policies_using_secret(const runtime::ObjectStore& policies,
                                               const std::string& secret_key) {
  std::vector<std::string> keys;
  policies.for_each([&](const json& object) {
    const json ref = object.value("spec", json::object()).value("databaseRef", json::object());
    const std::string ns = object["metadata"].value("namespace", "default");
    if (ref.is_object() && ns + "/" + ref.value("secretName", "") == secret_key) {
      keys.push_back(runtime::object_key(object));
    }
  });
  return keys;
}

const runtime::Resource& secrets() {
  static const runtime::Resource resource{"/api/v1", "secrets"};
  return resource;
}

void register_with_secrets(runtime::Manager& manager, const runtime::Resource& resource,
                           const std::string& instance, const AddController& add_controller) {
  runtime::Source& secret_source = manager.source(secrets());
  const runtime::ObjectStore& objects = manager.source(resource).store();
  runtime::Controller& controller = add_controller(std::make_unique<KubePolicyBackend>(
      manager.client(), secret_source.store(), instance, manager.clock(), resource.plural,
      KubePolicyBackend::Writes::kBackground));
  controller.watch_mapped(secret_source, [&objects](const std::string& key, const json*) {
    return policies_using_secret(objects, key);
  });
}

}  // namespace partop::controller
