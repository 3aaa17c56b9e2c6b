// The objects of a store by key, with the secondary indexes its readers ask for (ObjectIndex).
// An index is built on its first look-up and kept current by every change after, in the same
// step as the object itself, so a look-up never finds an object the cache no longer holds nor
// misses one it holds. Not synchronised: the owning store's lock guards every call, look-ups
// included (they may build an index).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/runtime/object_store.h"

namespace partop::runtime {

class ObjectCache {
 public:
  void put(const std::string& key, nlohmann::json object);
  void erase(const std::string& key);
  // Replaces every object at once (the indexes built so far are built again).
  void replace(std::map<std::string, nlohmann::json> objects);

  // nullptr when there is no object under `key`.
  const nlohmann::json* find(const std::string& key) const;
  const std::map<std::string, nlohmann::json>& objects() const { return objects_; }
  void for_each_indexed(const ObjectIndex& index, const std::string& value,
                        const std::function<void(const nlohmann::json&)>& visit) const;

 private:
  struct BuiltIndex {
    std::function<std::vector<std::string>(const nlohmann::json&)> values_of;
    std::map<std::string, std::set<std::string>> keys_by_value;
  };
  void file(BuiltIndex& index, const std::string& key, const nlohmann::json& object) const;
  void unfile(BuiltIndex& index, const std::string& key, const nlohmann::json& object) const;

  std::map<std::string, nlohmann::json> objects_;
  mutable std::map<std::string, BuiltIndex> indexes_;  // by ObjectIndex::name
};

}  // namespace partop::runtime
