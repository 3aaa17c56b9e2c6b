#include "reconcilers/document/field_reader.h"

#include <regex>

namespace partop {

using nlohmann::json;

std::string type_name(const json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "boolean";
  if (value.is_number_integer() || value.is_number_unsigned()) return "integer";
  if (value.is_number()) return "number";
  if (value.is_string()) return "string";
  if (value.is_array()) return "list";
  return "object";
}

// JSON text of a value from the document; invalid UTF-8 (YAML allows any bytes) is replaced,
// never thrown about.
std::string dump_text(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string quote_value(const json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : dump_text(value);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return dump_text(json(text));
}

std::string error_summary(const std::vector<FieldError>& errors) {
  std::string out;
  for (const auto& error : errors) out += (out.empty() ? "" : "; ") + error.to_string();
  return out;
}

bool is_valid_identifier(std::string_view text) {
  static const std::regex kIdentifier(R"(^[A-Za-z_][A-Za-z0-9_$]{0,62}$)");
  return std::regex_match(text.begin(), text.end(), kIdentifier);
}

}  // namespace partop
