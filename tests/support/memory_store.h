// An ObjectStore over Kubernetes objects a test puts in directly, keyed "namespace/name".
#pragma once

#include "operator/runtime/informer.h"
#include "operator/runtime/keyed_store.h"

namespace partop::testing {

class MemoryStore : public runtime::KeyedStore {
 public:
  using KeyedStore::put;
  void put(const nlohmann::json& object) { put(runtime::object_key(object), object); }
};

}  // namespace partop::testing
