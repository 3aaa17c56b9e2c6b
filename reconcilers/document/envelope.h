// The envelope every partop document shares, whatever its kind: apiVersion, kind and the parts
// of metadata partop uses (metadata is Kubernetes' own: the rest is tolerated), with status
// ignored on input. Each kind reads only its spec.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reconcilers/document/field_reader.h"

namespace partop {

inline constexpr std::string_view kApiVersion = "partop.dev/v1alpha1";

struct Envelope {
  std::string name;            // empty when metadata.name is missing or invalid (an error)
  std::string namespace_name;  // empty outside Kubernetes
  int64_t generation = 0;
};

// Reads apiVersion (must be kApiVersion), kind (must be `kind`), metadata (name required: a
// lowercase Kubernetes object name; namespace and generation when present) and status (ignored)
// through `reader`, the reader of the whole document; problems go to `errors`.
Envelope read_envelope(ObjectReader& reader, std::string_view kind,
                       std::vector<FieldError>& errors);

// Reads a whole document of `kind` into `resource` (a Policy, a Migration, ...: name,
// namespace_name, generation and spec): the envelope, then the required spec through
// `read_spec(const json& spec, errors)`. True when no error was found.
template <typename Resource, typename ReadSpec>
bool read_resource(const nlohmann::json& object, std::string_view kind,
                   std::vector<FieldError>& errors, Resource& resource, ReadSpec read_spec) {
  if (!object.is_object()) {
    errors.push_back(
        {"(document)", "must be a " + std::string(kind) + " object, got " + type_name(object)});
    return false;
  }
  ObjectReader reader(object, "", errors);
  const Envelope envelope = read_envelope(reader, kind, errors);
  resource.name = envelope.name;
  resource.namespace_name = envelope.namespace_name;
  resource.generation = envelope.generation;
  if (const nlohmann::json* spec = reader.object("spec")) {
    resource.spec = read_spec(*spec, errors);
  } else if (reader.get("spec") == nullptr) {
    reader.error("spec", "is required");
  }
  reader.finish();
  return errors.empty();
}

}  // namespace partop
