// Where a controller's objects come from: a cache of one collection plus change notifications.
// The operator's sources are informers on the API server (one per watched namespace); `partop
// run`'s source is a directory of YAML files. Controllers and reconcilers see only this.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/runtime/object_store.h"

namespace partop::runtime {

class Source {
 public:
  // `object` is the new object, or nullptr when it was deleted. Called on the source's thread.
  using Handler = std::function<void(const std::string& key, const nlohmann::json* object)>;

  virtual ~Source() = default;
  virtual const ObjectStore& store() const = 0;
  // Handlers are added before the source starts; each change is delivered to every handler.
  virtual void add_handler(Handler handler) = 0;
  // True once the cache holds a complete first listing.
  virtual bool synced() const = 0;
  // Fills the cache and keeps it current, calling the handlers, until `stop` is true.
  virtual void run(const std::atomic<bool>& stop) = 0;
};

}  // namespace partop::runtime
