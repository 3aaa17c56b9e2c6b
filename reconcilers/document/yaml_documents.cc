#include "reconcilers/document/yaml_documents.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

namespace partop {
namespace {

using nlohmann::json;

json yaml_node_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(yaml_node_to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) {
        const std::string key = item.first.as<std::string>();
        // YAML says a mapping's keys are unique; yaml-cpp keeps both and the last would win.
        if (out.contains(key))
          throw YAML::ParserException(item.first.Mark(), "duplicate key \"" + key + "\"");
        out[key] = yaml_node_to_json(item.second);
      }
      return out;
    }
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string& text = node.Scalar();
  if (node.Tag() != "?") return text;  // quoted or explicitly tagged: a string
  static const std::regex kInteger(R"(^[-+]?[0-9]{1,18}$)");
  static const std::regex kFloat(R"(^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$)");
  if (std::regex_match(text, kInteger)) return std::stoll(text);
  if (std::regex_match(text, kFloat)) {
    // Out of double's range (1e999): keep the text; a field that wants a number says so.
    errno = 0;
    const double value = std::strtod(text.c_str(), nullptr);
    if (errno != ERANGE) return value;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text == "null" || text == "Null" || text == "NULL" || text == "~") return nullptr;
  return text;
}

struct YamlDocument {
  std::string_view text;
  int first_line = 1;
};

// Splits a YAML stream at "---" lines. A line starting with "---" at column 0 can only be a
// document marker: block scalar content at the top level must be indented.
std::vector<YamlDocument> split_documents(std::string_view text) {
  std::vector<YamlDocument> documents;
  size_t start = 0;
  int line = 1;
  int start_line = 1;
  for (size_t position = 0; position <= text.size();) {
    const size_t end = std::min(text.find('\n', position), text.size());
    const std::string_view current = text.substr(position, end - position);
    const bool marker =
        current.substr(0, 3) == "---" &&
        (current.size() == 3 || current[3] == ' ' || current[3] == '\t' || current[3] == '\r');
    if (marker && position > start) {
      documents.push_back({text.substr(start, position - start), start_line});
      start = position;
      start_line = line;
    }
    position = end + 1;
    ++line;
  }
  if (start < text.size()) documents.push_back({text.substr(start), start_line});
  return documents;
}

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not valid UTF-8 (overlong
// forms, surrogates and code points above U+10FFFF included).
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint32_t code = 0;
  if ((lead & 0xe0) == 0xc0) {
    length = 2;
    code = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3;
    code = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMinimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}

// YAML text must be UTF-8 without C0 control characters other than tab, LF and CR (nor DEL).
// yaml-cpp 0.7 can loop forever on either (found by fuzzing), so such text is refused before it
// sees it.
std::optional<FieldError> unacceptable_text(std::string_view text) {
  int line = 1;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') ++line;
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      return FieldError{"(yaml)", "line " + std::to_string(line) + ": control character " + hex +
                                      " is not allowed in YAML"};
    }
    const size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      return FieldError{"(yaml)", "line " + std::to_string(line) + ": the text is not valid UTF-8"};
    }
    i += length;
  }
  return std::nullopt;
}

}  // namespace

json yaml_to_json(std::string_view yaml_text) {
  return yaml_node_to_json(YAML::Load(std::string(yaml_text)));
}

YamlDocuments read_yaml_documents(std::string_view yaml_text) {
  YamlDocuments out;
  if (auto error = unacceptable_text(yaml_text)) {
    out.error = *error;
    return out;
  }
  // One YAML::Load per document: yaml-cpp 0.7's LoadAll can loop forever on malformed flow
  // collections (found by fuzzing), while Load stops after one document.
  const std::vector<YamlDocument> documents = split_documents(yaml_text);
  for (size_t i = 0; i < documents.size(); ++i) {
    json document;
    try {
      document = yaml_node_to_json(YAML::Load(std::string(documents[i].text)));
    } catch (const YAML::Exception& e) {  // syntax errors, and keys that are not scalars
      out.documents.clear();
      out.error = FieldError{
          "(yaml)", "line " + std::to_string(documents[i].first_line + e.mark.line) + ": " + e.msg};
      return out;
    }
    if (document.is_null()) continue;  // empty document between separators
    out.documents.push_back({i + 1, std::move(document)});
  }
  return out;
}

}  // namespace partop
