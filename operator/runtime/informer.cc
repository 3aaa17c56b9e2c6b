#include "operator/runtime/informer.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "operator/runtime/log.h"

namespace partop::runtime {
namespace {

using nlohmann::json;

// Sleeps up to `duration`, waking early when `stop` is set.
void sleep_unless_stopped(std::chrono::milliseconds duration, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!stop && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string with_query(const std::string& path, const std::string& query) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") + query;
}

}  // namespace

std::string object_key(const json& object) {
  const json& metadata = object.value("metadata", json::object());
  const std::string name = metadata.value("name", "");
  const std::string ns = metadata.value("namespace", "");
  return ns.empty() ? name : ns + "/" + name;
}

ObjectKeyParts split_object_key(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

Informer::Informer(kube::Client& client, std::string collection_path, Handler on_change)
    : client_(client),
      collection_path_(std::move(collection_path)),
      on_change_(std::move(on_change)) {}

std::optional<json> Informer::get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const json* object = cache_.find(key);
  if (object == nullptr) return std::nullopt;
  return *object;
}

std::vector<json> Informer::list() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<json> out;
  out.reserve(cache_.objects().size());
  for (const auto& [key, object] : cache_.objects()) out.push_back(object);
  return out;
}

void Informer::for_each(const std::function<void(const json&)>& visit) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, object] : cache_.objects()) visit(object);
}

void Informer::for_each_indexed(const ObjectIndex& index, const std::string& value,
                                const std::function<void(const json&)>& visit) const {
  std::lock_guard<std::mutex> lock(mutex_);
  cache_.for_each_indexed(index, value, visit);
}

void Informer::store(const std::string& key, const json* object) {
  std::optional<json> stored;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (object == nullptr) {
      cache_.erase(key);
    } else {
      json cached = *object;
      // What the API server keeps for clients that write (managedFields, kubectl's copy of the
      // applied object) is most of an object's size and nothing partop reads: not cached, as
      // controller-runtime's cache transforms do.
      json& metadata = cached["metadata"];
      metadata.erase("managedFields");
      if (metadata.contains("annotations") && metadata["annotations"].is_object()) {
        metadata["annotations"].erase("kubectl.kubernetes.io/last-applied-configuration");
        if (metadata["annotations"].empty()) metadata.erase("annotations");
      }
      stored = cached;
      cache_.put(key, std::move(cached));
    }
  }
  on_change_(key, stored ? &*stored : nullptr);
}

std::optional<std::string> Informer::relist() {
  std::map<std::string, json> fresh;
  std::string continue_token;
  std::string resource_version;
  do {
    std::string path = with_query(collection_path_, "limit=500");
    if (!continue_token.empty()) path += "&continue=" + kube::url_encode(continue_token);
    const kube::Response response = client_.request(kube::Method::kGet, path);
    if (!response.ok()) {
      log(LogLevel::kWarning, "list failed",
          {{"path", collection_path_}, {"status", response.status}, {"error", response.error}});
      return std::nullopt;
    }
    for (const json& item : response.body.value("items", json::array()))
      fresh[object_key(item)] = item;
    const json& metadata = response.body.value("metadata", json::object());
    continue_token = metadata.value("continue", "");
    resource_version = metadata.value("resourceVersion", "");
  } while (!continue_token.empty());

  std::vector<std::string> deleted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, object] : cache_.objects()) {
      if (!fresh.count(key)) deleted.push_back(key);
    }
  }
  for (const auto& key : deleted) store(key, nullptr);
  for (const auto& [key, object] : fresh) {
    const auto old = get(key);
    if (!old || (*old)["metadata"].value("resourceVersion", "") !=
                    object["metadata"].value("resourceVersion", "")) {
      store(key, &object);
    }
  }
  synced_ = true;
  return resource_version;
}

Informer::WatchEnd Informer::watch(std::string& resource_version, const std::atomic<bool>& stop) {
  bool relist_needed = false;
  const std::string path = with_query(
      collection_path_, "watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=" +
                            kube::url_encode(resource_version));
  const kube::Response response = client_.watch(
      path,
      [&](const json& event) {
        const std::string type = event.value("type", "");
        const json& object = event.contains("object") ? event["object"] : json::object();
        if (type == "ERROR") {
          // 410 Gone: our resourceVersion is too old; anything else: start over as well.
          log(LogLevel::kInfo, "watch expired, relisting",
              {{"path", collection_path_},
               {"code", object.value("code", 0)},
               {"message", object.value("message", "")}});
          relist_needed = true;
          return false;
        }
        const std::string version =
            object.value("metadata", json::object()).value("resourceVersion", "");
        if (!version.empty()) resource_version = version;
        if (type == "ADDED" || type == "MODIFIED") {
          store(object_key(object), &object);
        } else if (type == "DELETED") {
          store(object_key(object), nullptr);
        }
        return !stop;
      },
      stop);
  if (relist_needed || response.status == 410) return WatchEnd::kRelist;
  if (!response.ok() && !stop) {
    log(LogLevel::kWarning, "watch failed",
        {{"path", collection_path_}, {"status", response.status}, {"error", response.error}});
    return WatchEnd::kFailed;
  }
  return WatchEnd::kClosed;
}

void Informer::run(const std::atomic<bool>& stop) {
  std::chrono::milliseconds backoff{500};
  const std::chrono::milliseconds max_backoff{30000};
  std::optional<std::string> resource_version;
  while (!stop) {
    if (!resource_version) {
      resource_version = relist();
      if (!resource_version) {
        sleep_unless_stopped(backoff, stop);
        backoff = std::min(backoff * 2, max_backoff);
        continue;
      }
    }
    switch (watch(*resource_version, stop)) {
      case WatchEnd::kClosed:
        backoff = std::chrono::milliseconds(500);
        break;
      case WatchEnd::kRelist:
        resource_version.reset();
        break;
      case WatchEnd::kFailed:
        // Reconnect from the same resourceVersion after a pause; a 410 then asks for a relist.
        sleep_unless_stopped(backoff, stop);
        backoff = std::min(backoff * 2, max_backoff);
        break;
    }
  }
}

}  // namespace partop::runtime
