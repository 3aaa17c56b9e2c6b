// An ObjectStore over objects a test puts in directly, keyed "namespace/name".
#pragma once

#include <map>
#include <mutex>

#include "operator/runtime/informer.h"
#include "operator/runtime/object_store.h"

namespace partop::testing {

class MemoryStore : public runtime::ObjectStore {
 public:
  void put(const nlohmann::json& object) {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_[runtime::object_key(object)] = object;
  }
  void erase(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    objects_.erase(key);
  }
  std::optional<nlohmann::json> get(const std::string& key) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = objects_.find(key);
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<nlohmann::json> list() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<nlohmann::json> out;
    for (const auto& [key, object] : objects_) out.push_back(object);
    return out;
  }
  void for_each(const std::function<void(const nlohmann::json&)>& visit) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, object] : objects_) visit(object);
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, nlohmann::json> objects_;
};

}  // namespace partop::testing
