#include "reconcilers/partition/policy_parser.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "reconcilers/document/duration.h"
#include "reconcilers/document/envelope.h"
#include "reconcilers/partition/index_predicate.h"

namespace partop {
namespace {

using nlohmann::json;

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
    if (auto where = reader.string("where")) {
      std::string error;
      if (auto predicate = parse_index_predicate(*where, error)) {
        index.where = predicate->sql;
        index.where_columns = predicate->columns;
      } else {
        reader.error("where", error);
      }
    }
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
  guards.drain_timeout = reader.duration("drainTimeout").value_or(guards.drain_timeout);
  guards.index_build_timeout =
      reader.duration("indexBuildTimeout").value_or(guards.index_build_timeout);
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

// True when `keep` spans less than one interval. Calendar units are compared by their shortest
// length (a month as 28 days, a year as 365), so only a span that is shorter in every calendar
// is refused. Requires `keep` and `interval` to be of the same family (time or keys).
bool keeps_less_than_one_interval(const RetentionSpec& keep, const IntervalSpec& interval) {
  if (!interval.unit) return keep.amount < interval.width;
  constexpr int64_t kHour = 3600;
  constexpr int64_t kDay = 24 * kHour;
  int64_t interval_seconds = 0;
  switch (*interval.unit) {
    case TimeUnit::kHour:
      interval_seconds = kHour;
      break;
    case TimeUnit::kDay:
      interval_seconds = kDay;
      break;
    case TimeUnit::kWeek:
      interval_seconds = 7 * kDay;
      break;
    case TimeUnit::kMonth:
      interval_seconds = 28 * kDay;
      break;
    case TimeUnit::kQuarter:
      interval_seconds = 89 * kDay;
      break;
    case TimeUnit::kYear:
      interval_seconds = 365 * kDay;
      break;
  }
  int64_t unit_seconds = 0;
  switch (keep.unit) {
    case RetentionSpec::Unit::kHours:
      unit_seconds = kHour;
      break;
    case RetentionSpec::Unit::kDays:
      unit_seconds = kDay;
      break;
    case RetentionSpec::Unit::kWeeks:
      unit_seconds = 7 * kDay;
      break;
    case RetentionSpec::Unit::kMonths:
      unit_seconds = 31 * kDay;
      break;
    case RetentionSpec::Unit::kYears:
      unit_seconds = 366 * kDay;
      break;
    case RetentionSpec::Unit::kKeys:
      return false;
  }
  // amount is bounded by the parser, far below overflow.
  return keep.amount * unit_seconds < interval_seconds;
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
  } else if (spec.retention && keeps_less_than_one_interval(*spec.retention, spec.interval)) {
    errors.push_back(
        {"spec.retention.keep", "keeps less than one interval (" + spec.interval.text +
                                    "): every partition would expire as soon as it is created"});
  }
  for (const auto& [field, timeout] :
       {std::pair{"statementTimeout", spec.guards.statement_timeout},
        std::pair{"drainTimeout", spec.guards.drain_timeout},
        std::pair{"indexBuildTimeout", spec.guards.index_build_timeout}}) {
    if (timeout < spec.guards.lock_timeout) {
      errors.push_back({std::string("spec.guards.") + field,
                        "must not be shorter than lockTimeout: a statement would be cancelled "
                        "while still allowed to wait for its lock"});
    }
  }
  return spec;
}

}  // namespace

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
  const Envelope envelope = read_envelope(reader, kKind, result.errors);
  policy.name = envelope.name;
  policy.namespace_name = envelope.namespace_name;
  policy.generation = envelope.generation;
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
