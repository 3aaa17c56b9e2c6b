#include "reconcilers/partition/policy_parser.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "reconcilers/partition/duration.h"

namespace partop {
namespace {

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

// Reads the fields of one JSON object, recording type errors and, on finish(), unknown fields.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path, std::vector<FieldError>& errors)
      : object_(object), path_(std::move(path)), errors_(errors) {}

  std::string field_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const json* get(std::string_view key) {
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
    const json* value = get(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) {
      error(key, "must be a string, got " + type_name(*value));
      return std::nullopt;
    }
    return value->get<std::string>();
  }

  std::optional<bool> boolean(std::string_view key) {
    const json* value = get(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_boolean()) {
      error(key, "must be true or false, got " + quote_value(*value));
      return std::nullopt;
    }
    return value->get<bool>();
  }

  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max) {
    const json* value = get(key);
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

  std::optional<std::chrono::milliseconds> duration(std::string_view key) {
    const auto text = string(key);
    if (!text) return std::nullopt;
    auto parsed = parse_duration(*text);
    if (!parsed || *parsed <= std::chrono::milliseconds{0}) {
      error(key,
            "must be a positive duration such as 300ms, 2s, 5m or 1h, got " + quote_value(*text));
      return std::nullopt;
    }
    return parsed;
  }

  const json* object(std::string_view key) {
    const json* value = get(key);
    if (value != nullptr && !value->is_object()) {
      error(key, "must be an object, got " + type_name(*value));
      return nullptr;
    }
    return value;
  }

  const json* list(std::string_view key) {
    const json* value = get(key);
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
  const json& object_;
  std::string path_;
  std::vector<FieldError>& errors_;
  std::set<std::string, std::less<>> seen_;
};

bool is_system_schema(std::string_view schema) {
  return schema == "information_schema" || schema.substr(0, 3) == "pg_";
}

std::optional<QualifiedName> read_table(ObjectReader& spec) {
  const auto text = spec.string("table");
  if (!text) return std::nullopt;
  const auto dot = text->find('.');
  QualifiedName table{"public", *text};
  if (dot != std::string::npos) table = {text->substr(0, dot), text->substr(dot + 1)};
  if (!is_valid_identifier(table.schema) || !is_valid_identifier(table.name)) {
    spec.error("table",
               "must be name or schema.name, each a SQL identifier (letters, digits, _ "
               "or $, at most 63 bytes), got " +
                   quote_value(*text));
    return std::nullopt;
  }
  if (is_system_schema(table.schema)) {
    spec.error("table", "names system schema " + quote_value(table.schema) +
                            "; partop manages only user tables");
    return std::nullopt;
  }
  return table;
}

std::optional<IntervalSpec> read_interval(ObjectReader& spec) {
  const json* value = spec.get("interval");
  if (value == nullptr) return std::nullopt;
  IntervalSpec interval;
  interval.text = value->is_string() ? value->get<std::string>() : dump_text(*value);
  if (value->is_string()) {
    interval.unit = time_unit_from_name(value->get<std::string>());
    if (interval.unit) return interval;
    const std::string& text = value->get_ref<const std::string&>();
    if (!text.empty() && text.size() < 19 &&
        std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
      interval.width = std::stoll(text);
    }
  } else if (value->is_number_integer()) {
    interval.width = value->get<int64_t>();
  }
  if (interval.width <= 0) {
    spec.error("interval",
               "must be one of hourly, daily, weekly, monthly, quarterly, yearly, or "
               "a positive integer for integer keys, got " +
                   quote_value(*value));
    return std::nullopt;
  }
  return interval;
}

std::vector<std::string> read_identifier_list(ObjectReader& reader, std::string_view key) {
  std::vector<std::string> names;
  const json* list = reader.list(key);
  if (list == nullptr) return names;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    const std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    if (!item.is_string() || !is_valid_identifier(item.get<std::string>())) {
      reader.error(item_key, "must be a column name (SQL identifier), got " + quote_value(item));
      continue;
    }
    names.push_back(item.get<std::string>());
  }
  return names;
}

std::vector<IndexSpec> read_indexes(ObjectReader& spec, std::vector<FieldError>& errors) {
  std::vector<IndexSpec> indexes;
  const json* list = spec.list("indexes");
  if (list == nullptr) return indexes;
  std::set<std::string> names;
  static const std::set<std::string> kMethods = {"btree", "hash", "brin", "gin", "gist"};
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string path = spec.field_path("indexes[" + std::to_string(i) + "]");
    if (!(*list)[i].is_object()) {
      errors.push_back({path, "must be an object, got " + type_name((*list)[i])});
      continue;
    }
    ObjectReader reader((*list)[i], path, errors);
    IndexSpec index;
    reader.require("name");
    index.name = reader.identifier("name").value_or("");
    reader.require("columns");
    index.columns = read_identifier_list(reader, "columns");
    if (reader.get("columns") != nullptr && reader.get("columns")->is_array() &&
        reader.get("columns")->empty()) {
      reader.error("columns", "must name at least one column");
    }
    index.unique = reader.boolean("unique").value_or(false);
    if (auto method = reader.string("method")) {
      if (!kMethods.count(*method)) {
        reader.error("method",
                     "must be one of btree, hash, brin, gin, gist, got " + quote_value(*method));
      }
      index.method = *method;
    }
    index.include = read_identifier_list(reader, "include");
    if (index.unique && index.method != "btree") {
      reader.error("unique", "unique indexes must use method btree");
    }
    if (!index.include.empty() && index.method != "btree" && index.method != "gist") {
      reader.error("include", "only btree and gist indexes support include columns");
    }
    if (!index.name.empty() && !names.insert(index.name).second) {
      reader.error("name", "duplicates index name " + quote_value(index.name));
    }
    reader.finish();
    indexes.push_back(std::move(index));
  }
  return indexes;
}

std::optional<RetentionSpec> read_retention(const json& object, const std::string& path,
                                            std::vector<FieldError>& errors) {
  ObjectReader reader(object, path, errors);
  RetentionSpec retention;
  reader.require("keep");
  bool ok = true;
  if (const json* keep = reader.get("keep")) {
    static const std::regex kSpan(R"(^\s*([0-9]{1,9})\s*(hour|day|week|month|year)s?\s*$)");
    std::smatch match;
    const std::string text = keep->is_string() ? keep->get<std::string>() : "";
    if (keep->is_number_integer() && keep->get<int64_t>() > 0) {
      retention = {keep->get<int64_t>(), RetentionSpec::Unit::kKeys};
    } else if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit) &&
               text.size() < 19 && std::stoll(text) > 0) {
      retention = {std::stoll(text), RetentionSpec::Unit::kKeys};
    } else if (std::regex_match(text, match, kSpan) && std::stoll(match[1]) > 0) {
      static const std::map<std::string, RetentionSpec::Unit> kUnits = {
          {"hour", RetentionSpec::Unit::kHours},
          {"day", RetentionSpec::Unit::kDays},
          {"week", RetentionSpec::Unit::kWeeks},
          {"month", RetentionSpec::Unit::kMonths},
          {"year", RetentionSpec::Unit::kYears}};
      retention = {std::stoll(match[1]), kUnits.at(match[2])};
    } else {
      reader.error("keep",
                   "must be \"<n> hours|days|weeks|months|years\" for time keys or a "
                   "positive integer span for integer keys, got " +
                       quote_value(*keep));
      ok = false;
    }
  }
  if (auto action = reader.string("action")) {
    if (*action == "drop") {
      retention.action = RetentionSpec::Action::kDrop;
    } else if (*action == "detach") {
      retention.action = RetentionSpec::Action::kDetach;
    } else {
      reader.error("action", "must be drop or detach, got " + quote_value(*action));
      ok = false;
    }
  }
  reader.finish();
  return ok ? std::optional(retention) : std::nullopt;
}

// Kubernetes resource quantity ("500Gi", "1T", "1000000") to bytes.
std::optional<int64_t> parse_quantity(const std::string& text) {
  static const std::regex kQuantity(R"(^([0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$)");
  std::smatch match;
  if (!std::regex_match(text, match, kQuantity) || match[1].length() > 15) return std::nullopt;
  static const std::map<std::string, long double> kScale = {{"", 1},
                                                            {"k", 1e3},
                                                            {"M", 1e6},
                                                            {"G", 1e9},
                                                            {"T", 1e12},
                                                            {"P", 1e15},
                                                            {"E", 1e18},
                                                            {"Ki", 1024.0},
                                                            {"Mi", 1048576.0},
                                                            {"Gi", 1073741824.0},
                                                            {"Ti", 1099511627776.0},
                                                            {"Pi", 1125899906842624.0},
                                                            {"Ei", 1152921504606846976.0}};
  const long double bytes = std::stold(match[1].str()) * kScale.at(match[2].str());
  if (bytes <= 0 || bytes > 9e18L) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

void read_guards(const json& object, const std::string& path, GuardSpec& guards,
                 std::vector<FieldError>& errors) {
  ObjectReader reader(object, path, errors);
  guards.lock_timeout = reader.duration("lockTimeout").value_or(guards.lock_timeout);
  guards.statement_timeout = reader.duration("statementTimeout").value_or(guards.statement_timeout);
  guards.max_replication_lag =
      reader.duration("maxReplicationLag").value_or(guards.max_replication_lag);
  if (const json* storage = reader.object("storage")) {
    ObjectReader storage_reader(*storage, reader.field_path("storage"), errors);
    StorageGuardSpec spec;
    storage_reader.require("capacity");
    if (auto capacity = storage_reader.string("capacity")) {
      if (auto bytes = parse_quantity(*capacity)) {
        spec.capacity_bytes = *bytes;
      } else {
        storage_reader.error("capacity", "must be a positive quantity such as 500Gi or 2Ti, got " +
                                             quote_value(*capacity));
      }
    }
    spec.threshold_percent =
        static_cast<int>(storage_reader.integer("thresholdPercent", 1, 100).value_or(80));
    storage_reader.finish();
    guards.storage = spec;
  }
  reader.finish();
}

std::optional<int> parse_clock(const std::string& text) {
  static const std::regex kClock(R"(^([01][0-9]|2[0-3]):([0-5][0-9])$)");
  std::smatch match;
  if (!std::regex_match(text, match, kClock)) return std::nullopt;
  return std::stoi(match[1]) * 60 + std::stoi(match[2]);
}

void read_schedule(const json& object, const std::string& path, ScheduleSpec& schedule,
                   std::vector<FieldError>& errors) {
  ObjectReader reader(object, path, errors);
  schedule.resync_interval = reader.duration("resyncInterval").value_or(schedule.resync_interval);
  if (const json* window = reader.object("maintenanceWindow")) {
    ObjectReader window_reader(*window, reader.field_path("maintenanceWindow"), errors);
    MaintenanceWindow spec;
    for (const char* key : {"start", "end"}) {
      window_reader.require(key);
      if (auto text = window_reader.string(key)) {
        if (auto minute = parse_clock(*text)) {
          (std::string_view(key) == "start" ? spec.start_minute : spec.end_minute) = *minute;
        } else {
          window_reader.error(
              key, "must be a time of day HH:MM (00:00 to 23:59), got " + quote_value(*text));
        }
      }
    }
    if (auto zone = window_reader.string("timeZone")) {
      static const std::regex kZone(R"(^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$)");
      if (!std::regex_match(*zone, kZone) || zone->size() > 64) {
        window_reader.error("timeZone",
                            "must be an IANA time zone name such as UTC or "
                            "Europe/Paris, got " +
                                quote_value(*zone));
      }
      spec.time_zone = *zone;
    }
    if (spec.start_minute == spec.end_minute && window->contains("start") &&
        window->contains("end")) {
      window_reader.error("end", "must differ from start");
    }
    window_reader.finish();
    schedule.maintenance_window = spec;
  }
  reader.finish();
}

void read_default_partition(const json& object, const std::string& path, PolicySpec& spec,
                            std::vector<FieldError>& errors) {
  ObjectReader reader(object, path, errors);
  spec.default_enabled = reader.boolean("enabled").value_or(true);
  spec.default_drain = reader.boolean("drain").value_or(true);
  reader.finish();
}

void read_database_ref(const json& object, const std::string& path, PolicySpec& spec,
                       std::vector<FieldError>& errors) {
  ObjectReader reader(object, path, errors);
  DatabaseRef ref;
  reader.require("secretName");
  static const std::regex kDnsName(R"(^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$)");
  if (auto name = reader.string("secretName")) {
    if (!std::regex_match(*name, kDnsName)) {
      reader.error("secretName", "must be a Kubernetes object name, got " + quote_value(*name));
    }
    ref.secret_name = *name;
  }
  static const std::regex kSecretKey(R"(^[-._a-zA-Z0-9]{1,253}$)");
  if (auto key = reader.string("key")) {
    if (!std::regex_match(*key, kSecretKey)) {
      reader.error("key", "must be a Secret data key, got " + quote_value(*key));
    }
    ref.key = *key;
  }
  reader.finish();
  spec.database_ref = ref;
}

PolicySpec read_spec(const json& object, std::vector<FieldError>& errors) {
  ObjectReader reader(object, "spec", errors);
  PolicySpec spec;
  reader.require("table");
  if (auto table = read_table(reader)) spec.table = *table;
  reader.require("interval");
  if (auto interval = read_interval(reader)) spec.interval = *interval;
  spec.premake = static_cast<int>(reader.integer("premake", 1, 1000).value_or(7));
  if (const json* value = reader.object("defaultPartition")) {
    read_default_partition(*value, reader.field_path("defaultPartition"), spec, errors);
  }
  spec.indexes = read_indexes(reader, errors);
  if (const json* value = reader.object("retention")) {
    spec.retention = read_retention(*value, reader.field_path("retention"), errors);
  }
  if (const json* value = reader.object("guards")) {
    read_guards(*value, reader.field_path("guards"), spec.guards, errors);
  }
  if (const json* value = reader.object("schedule")) {
    read_schedule(*value, reader.field_path("schedule"), spec.schedule, errors);
  }
  spec.suspend = reader.boolean("suspend").value_or(false);
  if (const json* value = reader.object("databaseRef")) {
    read_database_ref(*value, reader.field_path("databaseRef"), spec, errors);
  }
  reader.finish();

  // Cross-field rules that need no database.
  if (spec.retention &&
      spec.interval.unit.has_value() != (spec.retention->unit != RetentionSpec::Unit::kKeys)) {
    errors.push_back({"spec.retention.keep",
                      spec.interval.unit ? "must be a time span (\"<n> days\") for a time interval"
                                         : "must be an integer key span for an integer interval"});
  }
  return spec;
}

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
      for (const auto& item : node)
        out[item.first.as<std::string>()] = yaml_node_to_json(item.second);
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

}  // namespace

bool is_valid_identifier(std::string_view text) {
  static const std::regex kIdentifier(R"(^[A-Za-z_][A-Za-z0-9_$]{0,62}$)");
  return std::regex_match(text.begin(), text.end(), kIdentifier);
}

std::string ParsedPolicy::error_summary() const {
  std::string out;
  for (const auto& error : errors) out += (out.empty() ? "" : "; ") + error.to_string();
  return out;
}

ParsedPolicy parse_policy(const json& object) {
  ParsedPolicy result;
  if (!object.is_object()) {
    result.errors.push_back(
        {"(document)", "must be a PartitionPolicy object, got " + type_name(object)});
    return result;
  }
  ObjectReader reader(object, "", result.errors);
  Policy policy;
  const auto api_version = reader.string("apiVersion");
  if (api_version != std::optional<std::string>(kApiVersion)) {
    reader.error("apiVersion",
                 "must be " + std::string(kApiVersion) + ", got " +
                     (api_version ? quote_value(*api_version) : std::string("nothing")));
  }
  const auto kind = reader.string("kind");
  if (kind != std::optional<std::string>(kKind)) {
    reader.error("kind", "must be " + std::string(kKind) + ", got " +
                             (kind ? quote_value(*kind) : std::string("nothing")));
  }
  if (const json* metadata = reader.object("metadata")) {
    // metadata is Kubernetes' own: partop reads what it needs and tolerates the rest.
    static const std::regex kDnsName(R"(^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$)");
    const auto name = metadata->find("name");
    if (name == metadata->end() || !name->is_string() ||
        !std::regex_match(name->get<std::string>(), kDnsName)) {
      result.errors.push_back(
          {"metadata.name",
           "must be a lowercase Kubernetes object name, got " +
               (name == metadata->end() ? std::string("nothing") : quote_value(*name))});
    } else {
      policy.name = name->get<std::string>();
    }
    if (auto ns = metadata->find("namespace"); ns != metadata->end() && ns->is_string()) {
      policy.namespace_name = ns->get<std::string>();
    }
    if (auto generation = metadata->find("generation");
        generation != metadata->end() && generation->is_number_integer()) {
      policy.generation = generation->get<int64_t>();
    }
  } else {
    reader.error("metadata", "is required (with a name)");
  }
  reader.get("status");  // written by the operator, ignored on input
  result.name = policy.name;
  if (const json* spec = reader.object("spec")) {
    policy.spec = read_spec(*spec, result.errors);
  } else if (reader.get("spec") == nullptr) {
    reader.error("spec", "is required");
  }
  reader.finish();
  if (result.errors.empty()) result.policy = std::move(policy);
  return result;
}

json yaml_to_json(std::string_view yaml_text) {
  return yaml_node_to_json(YAML::Load(std::string(yaml_text)));
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

std::vector<ParsedPolicy> parse_policy_yaml(std::string_view yaml_text) {
  YamlDocuments documents = read_yaml_documents(yaml_text);
  if (documents.error) {
    ParsedPolicy failed;
    failed.name = "(yaml)";
    failed.errors.push_back(*documents.error);
    return {failed};
  }
  std::vector<ParsedPolicy> out;
  for (const auto& document : documents.documents) {
    ParsedPolicy parsed = parse_policy(document.value);
    if (parsed.name.empty()) parsed.name = "document " + std::to_string(document.number);
    out.push_back(std::move(parsed));
  }
  return out;
}

std::vector<ParsedPolicy> parse_policy_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    ParsedPolicy failed;
    failed.name = path;
    failed.errors.push_back({path, "cannot be read"});
    return {failed};
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_policy_yaml(buffer.str());
}

}  // namespace partop
