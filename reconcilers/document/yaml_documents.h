// YAML streams as JSON documents. yaml-cpp 0.7 loops forever or crashes on some inputs (found by
// fuzzing): text that is not UTF-8 or holds control characters is refused before it sees it,
// and a stream is split at "---" lines and loaded one document at a time.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconcilers/document/field_reader.h"

namespace partop {

// The non-empty documents of a YAML stream as JSON, each with its 1-based position in the
// stream; or the first syntax error (field "(yaml)", message with the line), and no documents.
struct YamlDocuments {
  struct Document {
    size_t number;
    nlohmann::json value;
  };
  std::vector<Document> documents;
  std::optional<FieldError> error;
};
YamlDocuments read_yaml_documents(std::string_view yaml_text);

// Converts a YAML document to JSON: plain scalars become numbers, booleans or null where they
// read as such; quoted scalars stay strings.
nlohmann::json yaml_to_json(std::string_view yaml_text);

}  // namespace partop
