// Reading partop's documents field by field, shared by every kind's spec reader: each problem is
// a FieldError carrying the path of the field it concerns ("spec.guards.lockTimeout"), and a
// field no reader asked for is an error, so a typo never passes silently.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconcilers/document/duration.h"

namespace partop {

struct FieldError {
  std::string field;
  std::string message;
  std::string to_string() const { return field + ": " + message; }
};

// All errors on one line ("a: ...; b: ..."), for conditions and exit messages.
std::string error_summary(const std::vector<FieldError>& errors);

// "null", "boolean", "integer", "number", "string", "list" or "object".
std::string type_name(const nlohmann::json& value);
// JSON text of a value from a document; invalid UTF-8 (YAML allows any bytes) is replaced,
// never thrown about.
std::string dump_text(const nlohmann::json& value);
// A value as it may appear in a message: quoted, at most 80 characters.
std::string quote_value(const nlohmann::json& value);

// True when `text` is an identifier partop accepts: [A-Za-z_][A-Za-z0-9_$]*, at most 63 bytes.
bool is_valid_identifier(std::string_view text);

// Reads the fields of one JSON object, recording type errors and, on finish(), unknown fields.
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& object, std::string path, std::vector<FieldError>& errors)
      : object_(object), path_(std::move(path)), errors_(errors) {}

  std::string field_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const nlohmann::json* get(std::string_view key) {
    seen_.insert(std::string(key));
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  void error(std::string_view key, std::string message) {
    errors_.push_back({field_path(key), std::move(message)});
  }

  void require(std::string_view key) {
    if (get(key) == nullptr) error(key, "is required");
  }

  std::optional<std::string> string(std::string_view key) {
    const nlohmann::json* value = get(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) {
      error(key, "must be a string, got " + type_name(*value));
      return std::nullopt;
    }
    return value->get<std::string>();
  }

  std::optional<bool> boolean(std::string_view key) {
    const nlohmann::json* value = get(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_boolean()) {
      error(key, "must be true or false, got " + quote_value(*value));
      return std::nullopt;
    }
    return value->get<bool>();
  }

  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max) {
    const nlohmann::json* value = get(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number_integer() && !value->is_number_unsigned()) {
      error(key, "must be an integer, got " + type_name(*value));
      return std::nullopt;
    }
    if (value->is_number_unsigned() && value->get<uint64_t>() > static_cast<uint64_t>(max)) {
      error(key, "must be at most " + std::to_string(max) + ", got " + dump_text(*value));
      return std::nullopt;
    }
    const int64_t n = value->get<int64_t>();
    if (n < min || n > max) {
      error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     ", got " + std::to_string(n));
      return std::nullopt;
    }
    return n;
  }

  // A Go-style duration; positive unless `allow_zero` (a pause that may be none).
  std::optional<std::chrono::milliseconds> duration(std::string_view key, bool allow_zero = false) {
    const auto text = string(key);
    if (!text) return std::nullopt;
    auto parsed = parse_duration(*text);
    if (!parsed || *parsed < std::chrono::milliseconds{0} ||
        (!allow_zero && *parsed == std::chrono::milliseconds{0})) {
      error(key, std::string("must be a ") + (allow_zero ? "" : "positive ") + "duration such as " +
                     (allow_zero ? "0s, " : "") + "300ms, 2s, 5m or 1h, got " + quote_value(*text));
      return std::nullopt;
    }
    return parsed;
  }

  const nlohmann::json* object(std::string_view key) {
    const nlohmann::json* value = get(key);
    if (value != nullptr && !value->is_object()) {
      error(key, "must be an object, got " + type_name(*value));
      return nullptr;
    }
    return value;
  }

  const nlohmann::json* list(std::string_view key) {
    const nlohmann::json* value = get(key);
    if (value != nullptr && !value->is_array()) {
      error(key, "must be a list, got " + type_name(*value));
      return nullptr;
    }
    return value;
  }

  std::optional<std::string> identifier(std::string_view key) {
    auto text = string(key);
    if (text && !is_valid_identifier(*text)) {
      error(key,
            "must be a SQL identifier (letters, digits, _ or $, starting with a letter or _, "
            "at most 63 bytes), got " +
                quote_value(*text));
      return std::nullopt;
    }
    return text;
  }

  // Reports every field that no reader asked for.
  void finish() {
    for (const auto& [key, value] : object_.items()) {
      if (!seen_.count(key)) error(key, "is not a known field");
    }
  }

 private:
  const nlohmann::json& object_;
  std::string path_;
  std::vector<FieldError>& errors_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace partop
