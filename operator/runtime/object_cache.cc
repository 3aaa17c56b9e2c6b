#include "operator/runtime/object_cache.h"

#include <utility>

namespace partop::runtime {

using nlohmann::json;

void ObjectCache::file(BuiltIndex& index, const std::string& key, const json& object) const {
  for (const auto& value : index.values_of(object)) index.keys_by_value[value].insert(key);
}

void ObjectCache::unfile(BuiltIndex& index, const std::string& key, const json& object) const {
  for (const auto& value : index.values_of(object)) {
    const auto keys = index.keys_by_value.find(value);
    if (keys == index.keys_by_value.end()) continue;
    keys->second.erase(key);
    if (keys->second.empty()) index.keys_by_value.erase(keys);
  }
}

void ObjectCache::put(const std::string& key, json object) {
  const auto old = objects_.find(key);
  for (auto& [name, index] : indexes_) {
    if (old != objects_.end()) unfile(index, key, old->second);
    file(index, key, object);
  }
  objects_[key] = std::move(object);
}

void ObjectCache::erase(const std::string& key) {
  const auto old = objects_.find(key);
  if (old == objects_.end()) return;
  for (auto& [name, index] : indexes_) unfile(index, key, old->second);
  objects_.erase(old);
}

void ObjectCache::replace(std::map<std::string, json> objects) {
  objects_ = std::move(objects);
  for (auto& [name, index] : indexes_) {
    index.keys_by_value.clear();
    for (const auto& [key, object] : objects_) file(index, key, object);
  }
}

const json* ObjectCache::find(const std::string& key) const {
  const auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : &it->second;
}

void ObjectCache::for_each_indexed(const ObjectIndex& index, const std::string& value,
                                   const std::function<void(const json&)>& visit) const {
  auto built = indexes_.find(index.name);
  if (built == indexes_.end()) {
    built = indexes_.emplace(index.name, BuiltIndex{index.values_of, {}}).first;
    for (const auto& [key, object] : objects_) file(built->second, key, object);
  }
  const auto keys = built->second.keys_by_value.find(value);
  if (keys == built->second.keys_by_value.end()) return;
  for (const auto& key : keys->second) visit(objects_.at(key));
}

}  // namespace partop::runtime
