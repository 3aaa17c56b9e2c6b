// Read access to a cache of Kubernetes objects, keyed "namespace/name".
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace partop::runtime {

// A secondary index of a store (client-go's Indexer): `values_of` says which values an object is
// filed under ("public.events" for its spec.table). It must depend on the object alone, and one
// name must always come with the same function.
struct ObjectIndex {
  std::string name;
  std::function<std::vector<std::string>(const nlohmann::json& object)> values_of;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  virtual std::optional<nlohmann::json> get(const std::string& key) const = 0;
  virtual std::vector<nlohmann::json> list() const = 0;
  // Visits every object without copying it; `visit` must not call back into the store.
  virtual void for_each(const std::function<void(const nlohmann::json&)>& visit) const = 0;
  // Visits the objects `index` files under `value`, without copying them; `visit` must not call
  // back into the store. The store builds the index on its first use and keeps it current with
  // every change after, so a look-up costs the objects it finds, not the store's size.
  virtual void for_each_indexed(const ObjectIndex& index, const std::string& value,
                                const std::function<void(const nlohmann::json&)>& visit) const = 0;
};

}  // namespace partop::runtime

namespace partop::runtime {

// Several stores seen as one (one informer per watched namespace).
class CompositeStore : public ObjectStore {
 public:
  explicit CompositeStore(std::vector<const ObjectStore*> parts) : parts_(std::move(parts)) {}
  std::optional<nlohmann::json> get(const std::string& key) const override {
    for (const auto* part : parts_) {
      if (auto object = part->get(key)) return object;
    }
    return std::nullopt;
  }
  std::vector<nlohmann::json> list() const override {
    std::vector<nlohmann::json> out;
    for (const auto* part : parts_) {
      auto items = part->list();
      out.insert(out.end(), items.begin(), items.end());
    }
    return out;
  }
  void for_each(const std::function<void(const nlohmann::json&)>& visit) const override {
    for (const auto* part : parts_) part->for_each(visit);
  }
  void for_each_indexed(const ObjectIndex& index, const std::string& value,
                        const std::function<void(const nlohmann::json&)>& visit) const override {
    for (const auto* part : parts_) part->for_each_indexed(index, value, visit);
  }

 private:
  std::vector<const ObjectStore*> parts_;
};

}  // namespace partop::runtime
