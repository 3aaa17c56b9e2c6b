// Keeps a local cache of one collection of Kubernetes objects, as client-go's reflector and
// informer do: list (paginated), then watch from the list's resourceVersion with bookmarks;
// relist on 410 Gone; after transport errors, reconnect with exponential backoff. The handler is
// called on the informer's thread for every added, changed or deleted object.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"
#include "operator/runtime/object_cache.h"
#include "operator/runtime/object_store.h"

namespace partop::runtime {

// "namespace/name" of an object (or "name" for cluster-scoped ones).
std::string object_key(const nlohmann::json& object);

// A key split back into its namespace ("" for cluster-scoped objects and files) and name.
struct ObjectKeyParts {
  std::string ns;
  std::string name;
};
ObjectKeyParts split_object_key(const std::string& key);

class Informer : public ObjectStore {
 public:
  // `object` is the new object, or nullptr when it was deleted.
  using Handler = std::function<void(const std::string& key, const nlohmann::json* object)>;

  // `collection_path` lists the objects, e.g. "/api/v1/namespaces/app/secrets".
  Informer(kube::Client& client, std::string collection_path, Handler on_change);

  // Lists and watches until `stop` is true.
  void run(const std::atomic<bool>& stop);

  // True once the first list has been stored.
  bool synced() const { return synced_; }
  std::optional<nlohmann::json> get(const std::string& key) const override;
  std::vector<nlohmann::json> list() const override;
  void for_each(const std::function<void(const nlohmann::json&)>& visit) const override;
  void for_each_indexed(const ObjectIndex& index, const std::string& value,
                        const std::function<void(const nlohmann::json&)>& visit) const override;

 private:
  // Replaces the cache with a fresh list; returns its resourceVersion, or nullopt on failure.
  std::optional<std::string> relist();
  enum class WatchEnd { kClosed, kRelist, kFailed };
  // Watches from `resource_version`, advancing it as events arrive.
  WatchEnd watch(std::string& resource_version, const std::atomic<bool>& stop);
  void store(const std::string& key, const nlohmann::json* object);

  kube::Client& client_;
  std::string collection_path_;
  Handler on_change_;
  mutable std::mutex mutex_;
  ObjectCache cache_;
  std::atomic<bool> synced_{false};
};

}  // namespace partop::runtime
