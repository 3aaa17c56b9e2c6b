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
#include "reconcilers/partition/spec_fields.h"

namespace partop {
namespace {

using nlohmann::json;

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

// A column name (SQL identifier) in `key`, "" when absent or invalid (the error is recorded).
std::string read_column(ObjectReader& reader, std::string_view key) {
  const auto name = reader.string(key);
  if (!name) return "";
  if (!is_valid_identifier(*name)) {
    reader.error(key, "must be a column name (SQL identifier), got " + quote_value(*name));
    return "";
  }
  return *name;
}

// At most this many values may be written inline; a longer list belongs in a table.
constexpr size_t kMaxListValues = 10000;

std::vector<std::string> read_list_values(ObjectReader& reader) {
  std::vector<std::string> values;
  const json* list = reader.list("values");
  if (list == nullptr) return values;
  if (list->size() > kMaxListValues) {
    reader.error("values", "holds " + std::to_string(list->size()) + " values, more than " +
                               std::to_string(kMaxListValues) + ": use valuesFrom");
    return values;
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    const std::string key = "values[" + std::to_string(i) + "]";
    std::string value;
    if (item.is_string()) {
      value = item.get<std::string>();
    } else if (item.is_number_integer()) {
      value = std::to_string(item.get<int64_t>());
    } else {
      reader.error(key, "must be a string or an integer, got " + quote_value(item));
      continue;
    }
    if (!seen.insert(value).second) {
      reader.error(key, "repeats the value " + quote_value(item));
      continue;
    }
    values.push_back(std::move(value));
  }
  if (list->empty()) reader.error("values", "must name at least one value");
  return values;
}

std::optional<ListSpec> read_list(const json& object, const std::string& path,
                                  std::vector<FieldError>& errors) {
  ObjectReader reader(object, path, errors);
  const size_t errors_before = errors.size();
  ListSpec list;
  reader.require("column");
  list.column = read_column(reader, "column");
  list.values = read_list_values(reader);
  if (const json* from = reader.object("valuesFrom")) {
    ObjectReader from_reader(*from, reader.field_path("valuesFrom"), errors);
    ValuesSource source;
    from_reader.require("table");
    if (auto table = read_table_name(from_reader)) source.table = *table;
    from_reader.require("column");
    source.column = read_column(from_reader, "column");
    source.where_column = read_column(from_reader, "where");
    from_reader.finish();
    list.values_from = source;
  }
  if (object.contains("values") == object.contains("valuesFrom")) {
    reader.error("values", "exactly one of values and valuesFrom must be set");
  }
  reader.finish();
  return errors.size() == errors_before ? std::optional(list) : std::nullopt;
}

PolicySpec read_spec(const json& object, std::vector<FieldError>& errors) {
  ObjectReader reader(object, "spec", errors);
  PolicySpec spec;
  reader.require("table");
  if (auto table = read_table_name(reader)) spec.table = *table;
  if (const json* value = reader.object("list")) {
    spec.list = read_list(*value, reader.field_path("list"), errors);
  }
  if (!object.contains("list")) reader.require("interval");
  if (auto interval = read_interval(reader)) spec.interval = *interval;
  const std::string time_key = read_column(reader, "timeKey");
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
    spec.database_ref = read_database_ref(*value, reader.field_path("databaseRef"), errors);
  }
  reader.finish();

  // Cross-field rules that need no database.
  if (!time_key.empty() && !object.contains("list")) {
    errors.push_back({"spec.timeKey",
                      "applies only with spec.list (a range table's key is its "
                      "partition key)"});
  }
  if (spec.list) {
    spec.list->time_key = time_key;
    const bool interval_written = object.contains("interval");
    if (interval_written && time_key.empty()) {
      errors.push_back({"spec.timeKey",
                        "is required with spec.interval: the column each list "
                        "partition is range-partitioned on"});
    } else if (!interval_written && !time_key.empty()) {
      errors.push_back({"spec.interval", "is required with spec.timeKey"});
    }
    if (!object.contains("interval")) {
      for (const char* key : {"premake", "retention"}) {
        if (object.contains(key)) {
          errors.push_back({std::string("spec.") + key,
                            "needs spec.interval: list partitions without one are leaves, with "
                            "no time to premake or expire"});
        }
      }
    }
  }
  if (!spec.has_interval()) return spec;  // the interval's own error, or a list of leaves
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
  return spec;
}

}  // namespace

std::string ParsedPolicy::error_summary() const {
  return partop::error_summary(errors);
}

ParsedPolicy parse_policy(const json& object) {
  ParsedPolicy result;
  Policy policy;
  const bool valid = read_resource(object, kKind, result.errors, policy, read_spec);
  result.name = policy.name;
  if (valid) result.policy = std::move(policy);
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
