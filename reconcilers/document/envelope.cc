#include "reconcilers/document/envelope.h"

#include <optional>
#include <regex>

namespace partop {

using nlohmann::json;

Envelope read_envelope(ObjectReader& reader, std::string_view kind,
                       std::vector<FieldError>& errors) {
  Envelope envelope;
  const auto api_version = reader.string("apiVersion");
  if (api_version != std::optional<std::string>(kApiVersion)) {
    reader.error("apiVersion",
                 "must be " + std::string(kApiVersion) + ", got " +
                     (api_version ? quote_value(*api_version) : std::string("nothing")));
  }
  const auto declared = reader.string("kind");
  if (declared != std::optional<std::string>(kind)) {
    reader.error("kind", "must be " + std::string(kind) + ", got " +
                             (declared ? quote_value(*declared) : std::string("nothing")));
  }
  if (const json* metadata = reader.object("metadata")) {
    static const std::regex kDnsName(R"(^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$)");
    const auto name = metadata->find("name");
    if (name == metadata->end() || !name->is_string() ||
        !std::regex_match(name->get<std::string>(), kDnsName)) {
      errors.push_back({"metadata.name", "must be a lowercase Kubernetes object name, got " +
                                             (name == metadata->end() ? std::string("nothing")
                                                                      : quote_value(*name))});
    } else {
      envelope.name = name->get<std::string>();
    }
    if (auto ns = metadata->find("namespace"); ns != metadata->end() && ns->is_string()) {
      envelope.namespace_name = ns->get<std::string>();
    }
    if (auto generation = metadata->find("generation");
        generation != metadata->end() && generation->is_number_integer()) {
      envelope.generation = generation->get<int64_t>();
    }
  } else {
    reader.error("metadata", "is required (with a name)");
  }
  reader.get("status");  // written by the operator, ignored on input
  return envelope;
}

}  // namespace partop
