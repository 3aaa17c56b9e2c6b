// An ObjectStore over JSON objects its owner puts in by key, safe to read from any thread while
// the owner writes: the cache of a Source that is not an informer (list value notices, database
// reachability answers), and the store tests fill by hand.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "operator/runtime/object_cache.h"
#include "operator/runtime/object_store.h"

namespace partop::runtime {

class KeyedStore : public ObjectStore {
 public:
  void put(const std::string& key, nlohmann::json object) {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_.put(key, std::move(object));
  }
  void erase(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_.erase(key);
  }
  // Stores change(the object under `key`, or nullptr) under `key` and returns it, in one step.
  nlohmann::json update(const std::string& key,
                        const std::function<nlohmann::json(const nlohmann::json*)>& change) {
    std::lock_guard<std::mutex> lock(mutex_);
    nlohmann::json changed = change(objects_.find(key));
    objects_.put(key, changed);
    return changed;
  }
  // Replaces every object at once.
  void replace(std::map<std::string, nlohmann::json> objects) {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_.replace(std::move(objects));
  }

  std::optional<nlohmann::json> get(const std::string& key) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    const nlohmann::json* object = objects_.find(key);
    if (object == nullptr) return std::nullopt;
    return *object;
  }
  std::vector<nlohmann::json> list() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<nlohmann::json> out;
    for (const auto& [key, object] : objects_.objects()) out.push_back(object);
    return out;
  }
  void for_each(const std::function<void(const nlohmann::json&)>& visit) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, object] : objects_.objects()) visit(object);
  }
  void for_each_indexed(const ObjectIndex& index, const std::string& value,
                        const std::function<void(const nlohmann::json&)>& visit) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_.for_each_indexed(index, value, visit);
  }

 private:
  mutable std::mutex mutex_;
  ObjectCache objects_;
};

}  // namespace partop::runtime
