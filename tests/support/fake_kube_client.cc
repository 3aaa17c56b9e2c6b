#include "tests/support/fake_kube_client.h"

#include <sstream>

namespace partop::testing {
namespace {

using nlohmann::json;

void merge_patch(json& target, const json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      target.erase(key);
    } else {
      merge_patch(target[key], value);
    }
  }
}

kube::Response status_response(int code, const std::string& message) {
  return {code, json{{"kind", "Status"}, {"code", code}, {"message", message}}, message};
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream stream(path);
  std::string part;
  while (std::getline(stream, part, '/')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

}  // namespace

FakeKubeClient::Parsed FakeKubeClient::parse(const std::string& full_path) {
  Parsed out;
  const auto question = full_path.find('?');
  const std::string path = full_path.substr(0, question);
  if (question != std::string::npos) {
    std::stringstream query(full_path.substr(question + 1));
    std::string pair;
    while (std::getline(query, pair, '&')) {
      const auto eq = pair.find('=');
      out.query[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
    }
  }
  const auto parts = split_path(path);
  // api/v1/... or apis/<group>/<version>/...
  const size_t base = !parts.empty() && parts[0] == "api" ? 2 : 3;
  std::string group_version;
  for (size_t i = 0; i < base && i < parts.size(); ++i) group_version += "/" + parts[i];
  size_t i = base;
  if (i + 1 < parts.size() && parts[i] == "namespaces") {
    out.ns = parts[i + 1];
    i += 2;
  }
  if (i < parts.size()) out.resource = group_version + "/" + parts[i++];
  if (i < parts.size()) out.name = parts[i++];
  if (i < parts.size()) out.subresource = parts[i++];
  return out;
}

std::string FakeKubeClient::store_key(const std::string& resource, const std::string& ns,
                                      const std::string& name) {
  return resource + "|" + ns + "|" + name;
}

void FakeKubeClient::emit_locked(const std::string& type, const Parsed& where, const json& object) {
  events_.push_back({version_, where.resource, where.ns, type, object});
  changed_.notify_all();
}

json FakeKubeClient::store_locked(const Parsed& where, json object, bool spec_changed) {
  const std::string key = store_key(where.resource, where.ns, where.name);
  const auto old = objects_.find(key);
  json& metadata = object["metadata"];
  metadata["name"] = where.name;
  if (!where.ns.empty()) metadata["namespace"] = where.ns;
  metadata["resourceVersion"] = std::to_string(++version_);
  if (old == objects_.end()) {
    metadata["generation"] = 1;
    metadata["uid"] = "uid-" + std::to_string(version_);
    metadata["creationTimestamp"] = "2026-01-01T00:00:" + std::to_string(10 + version_ % 50) + "Z";
  } else {
    const json& old_metadata = old->second["metadata"];
    metadata["uid"] = old_metadata.value("uid", "");
    metadata["creationTimestamp"] = old_metadata.value("creationTimestamp", "");
    const int64_t generation = old_metadata.value("generation", int64_t{1});
    metadata["generation"] = spec_changed ? generation + 1 : generation;
  }
  objects_[key] = object;
  emit_locked(old == objects_.end() ? "ADDED" : "MODIFIED", where, object);
  return object;
}

kube::Response FakeKubeClient::request(kube::Method method, const std::string& path,
                                       const std::optional<json>& body, const std::string&) {
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.push_back({method, path, body.value_or(json())});
  for (const auto& [prefix, status] : failing_prefixes_) {
    if (path.rfind(prefix, 0) == 0) return status_response(status, "injected failure");
  }
  const Parsed where = parse(path);
  const std::string key = store_key(where.resource, where.ns, where.name);
  switch (method) {
    case kube::Method::kGet: {
      if (!where.name.empty()) {
        const auto it = objects_.find(key);
        if (it == objects_.end()) return status_response(404, where.name + " not found");
        return {200, it->second, ""};
      }
      json items = json::array();
      for (const auto& [stored_key, object] : objects_) {
        const std::string prefix = where.resource + "|";
        if (stored_key.rfind(prefix, 0) != 0) continue;
        if (!where.ns.empty() && stored_key.rfind(prefix + where.ns + "|", 0) != 0) continue;
        items.push_back(object);
      }
      // One page of at most `limit` items; the continue token is the offset.
      const size_t offset =
          where.query.count("continue") ? std::stoul(where.query.at("continue")) : 0;
      const size_t limit =
          where.query.count("limit") ? std::stoul(where.query.at("limit")) : items.size();
      json page = json::array();
      for (size_t i = offset; i < items.size() && i < offset + limit; ++i) page.push_back(items[i]);
      json metadata = {{"resourceVersion", std::to_string(version_)}};
      if (offset + limit < items.size()) metadata["continue"] = std::to_string(offset + limit);
      return {200, json{{"items", page}, {"metadata", metadata}}, ""};
    }
    case kube::Method::kPost: {
      Parsed created = where;
      created.name = body->value("metadata", json::object()).value("name", "");
      if (created.name.empty()) {
        const std::string prefix =
            body->value("metadata", json::object()).value("generateName", "");
        created.name = prefix + std::to_string(version_ + 1);
      }
      if (objects_.count(store_key(created.resource, created.ns, created.name)))
        return status_response(409, created.name + " already exists");
      return {201, store_locked(created, *body, false), ""};
    }
    case kube::Method::kPut: {
      const auto it = objects_.find(key);
      if (it == objects_.end()) return status_response(404, where.name + " not found");
      const std::string expected =
          body->value("metadata", json::object()).value("resourceVersion", "");
      if (!expected.empty() && expected != it->second["metadata"].value("resourceVersion", ""))
        return status_response(409, "the object has been modified");
      const bool spec_changed = body->value("spec", json()) != it->second.value("spec", json());
      return {200, store_locked(where, *body, spec_changed), ""};
    }
    case kube::Method::kPatch: {
      const auto it = objects_.find(key);
      if (it == objects_.end()) return status_response(404, where.name + " not found");
      json object = it->second;
      json patch = *body;
      if (where.subresource == "status")
        patch = json{{"status", patch.value("status", json())}};
      else
        patch.erase("status");
      merge_patch(object, patch);
      const bool spec_changed = object.value("spec", json()) != it->second.value("spec", json());
      return {200, store_locked(where, object, spec_changed), ""};
    }
    case kube::Method::kDelete: {
      const auto it = objects_.find(key);
      if (it == objects_.end()) return status_response(404, where.name + " not found");
      json object = it->second;
      objects_.erase(it);
      ++version_;
      emit_locked("DELETED", where, object);
      return {200, object, ""};
    }
  }
  return status_response(405, "method not allowed");
}

kube::Response FakeKubeClient::watch(const std::string& path,
                                     const std::function<bool(const json& event)>& on_event,
                                     const std::atomic<bool>& stop) {
  std::unique_lock<std::mutex> lock(mutex_);
  watch_paths_.push_back(path);
  if (failing_watches_ > 0) {
    --failing_watches_;
    return {0, json(), "injected transport failure"};
  }
  const Parsed where = parse(path);
  uint64_t from =
      where.query.count("resourceVersion") ? std::stoull(where.query.at("resourceVersion")) : 0;
  if (from < compacted_) {
    lock.unlock();
    on_event(
        {{"type", "ERROR"},
         {"object", {{"kind", "Status"}, {"code", 410}, {"message", "too old resource version"}}}});
    return {200, json(), ""};
  }
  const uint64_t close_epoch = watch_epoch_;
  const uint64_t expire_epoch = expire_epoch_;
  uint64_t bookmark_epoch = bookmark_epoch_;
  while (!stop) {
    if (expire_epoch_ != expire_epoch) {
      lock.unlock();
      on_event({{"type", "ERROR"},
                {"object",
                 {{"kind", "Status"}, {"code", 410}, {"message", "too old resource version"}}}});
      return {200, json(), ""};
    }
    if (watch_epoch_ != close_epoch) return {200, json(), ""};
    std::vector<json> pending;
    for (const auto& event : events_) {
      if (event.version <= from || event.collection != where.resource) continue;
      if (!where.ns.empty() && event.ns != where.ns) continue;
      pending.push_back({{"type", event.type}, {"object", event.object}});
      from = event.version;
    }
    if (bookmark_epoch_ != bookmark_epoch) {
      bookmark_epoch = bookmark_epoch_;
      from = std::max(from, version_);
      pending.push_back(
          {{"type", "BOOKMARK"},
           {"object", {{"metadata", {{"resourceVersion", std::to_string(version_)}}}}}});
    }
    if (!pending.empty()) {
      lock.unlock();
      for (const auto& event : pending) {
        if (!on_event(event)) return {200, json(), ""};
      }
      lock.lock();
      continue;
    }
    changed_.wait_for(lock, std::chrono::milliseconds(20));
  }
  return {200, json(), ""};
}

json FakeKubeClient::put_object(const std::string& collection, json object) {
  std::lock_guard<std::mutex> lock(mutex_);
  Parsed where = parse(collection);
  where.name = object["metadata"].value("name", "");
  const auto old = objects_.find(store_key(where.resource, where.ns, where.name));
  const bool spec_changed =
      old == objects_.end() || object.value("spec", json()) != old->second.value("spec", json());
  if (old != objects_.end() && !object.contains("status") && old->second.contains("status"))
    object["status"] = old->second["status"];
  return store_locked(where, std::move(object), spec_changed);
}

void FakeKubeClient::delete_object(const std::string& collection, const std::string& name) {
  request(kube::Method::kDelete, collection + "/" + name, std::nullopt, "application/json");
}

void FakeKubeClient::expire_watches() {
  std::lock_guard<std::mutex> lock(mutex_);
  compacted_ = version_ + 1;
  events_.clear();
  ++expire_epoch_;
  changed_.notify_all();
}

void FakeKubeClient::send_bookmark() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++bookmark_epoch_;
  changed_.notify_all();
}

void FakeKubeClient::close_watches() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++watch_epoch_;
  changed_.notify_all();
}

void FakeKubeClient::fail_next_watches(int count) {
  std::lock_guard<std::mutex> lock(mutex_);
  failing_watches_ = count;
}

void FakeKubeClient::fail_requests(const std::string& prefix, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (status == 0) {
    failing_prefixes_.erase(prefix);
  } else {
    failing_prefixes_[prefix] = status;
  }
}

std::vector<RecordedRequest> FakeKubeClient::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

int FakeKubeClient::count_requests(kube::Method method, const std::string& path_prefix) const {
  std::lock_guard<std::mutex> lock(mutex_);
  int count = 0;
  for (const auto& request : requests_) {
    if (request.method == method && request.path.rfind(path_prefix, 0) == 0) ++count;
  }
  return count;
}

std::vector<std::string> FakeKubeClient::watch_paths() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return watch_paths_;
}

std::string FakeKubeClient::resource_version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::to_string(version_);
}

}  // namespace partop::testing
