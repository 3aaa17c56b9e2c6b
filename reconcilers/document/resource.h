// A partop object as the engine and the controllers see it, whatever its kind: the metadata
// partop uses and the validated spec (PolicySpec, MigrationSpec, ...).
#pragma once

#include <cstdint>
#include <string>

namespace partop {

template <typename Spec>
struct Resource {
  std::string name;
  std::string namespace_name;  // empty outside Kubernetes
  int64_t generation = 0;
  Spec spec;

  // "namespace/name", or the name alone outside Kubernetes: the key of queues, logs and claims.
  std::string key() const { return namespace_name.empty() ? name : namespace_name + "/" + name; }
};

}  // namespace partop
