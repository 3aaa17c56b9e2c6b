#include "reconcilers/backfill/backfill_parser.h"

#include <regex>

#include "reconcilers/document/envelope.h"
#include "reconcilers/partition/spec_fields.h"

namespace partop {
namespace {

using nlohmann::json;

std::optional<KeyValue> parse_time(const std::string& text) {
  static const std::regex kTime(
      R"(^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:Z|\+00(?::?00)?)?)?$)");
  std::smatch m;
  if (!std::regex_match(text, m, kTime)) return std::nullopt;
  const auto field = [&](size_t i) { return m[i].matched ? std::stoi(m[i].str()) : 0; };
  const int year = field(1), month = field(2), day = field(3);
  const int hour = field(4), minute = field(5), second = field(6);
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] || hour > 23 || minute > 59 ||
      second > 59)
    return std::nullopt;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  return epoch_seconds(year, static_cast<unsigned>(month), static_cast<unsigned>(day), hour, minute,
                       second);
}

std::optional<KeyValue> parse_integer(const std::string& text) {
  static const std::regex kInteger(R"(^-?\d{1,18}$)");
  if (!std::regex_match(text, kInteger)) return std::nullopt;
  return std::stoll(text);
}

std::optional<RangeBound> read_bound(ObjectReader& range, std::string_view key) {
  range.require(key);
  const json* value = range.get(key);
  if (value == nullptr) return std::nullopt;
  auto bound = parse_range_bound(*value);
  if (!bound) {
    range.error(key,
                "must be a date (2026-01-01), a UTC time (2026-01-01T06:00:00Z) or an "
                "integer, got " +
                    quote_value(*value));
  }
  return bound;
}

BackfillSpec read_spec(const json& object, std::vector<FieldError>& errors) {
  ObjectReader reader(object, "spec", errors);
  BackfillSpec spec;
  reader.require("table");
  if (auto table = read_table_name(reader)) spec.table = *table;
  reader.require("source");
  if (auto source = read_table_name(reader, "source")) spec.source = *source;
  reader.require("range");
  if (const json* value = reader.object("range")) {
    ObjectReader range(*value, reader.field_path("range"), errors);
    auto from = read_bound(range, "from");
    auto to = read_bound(range, "to");
    range.finish();
    if (from) spec.from = *from;
    if (to) spec.to = *to;
    // Comparable only when both read the same way; otherwise the planner decides with the type.
    if (from && to &&
        ((from->time && to->time && *from->time >= *to->time) ||
         (!from->time && from->integer && to->integer && *from->integer >= *to->integer))) {
      reader.error("range", "from (" + from->text + ") must be before to (" + to->text + ")");
    }
  }
  if (auto order = reader.string("order")) {
    if (*order == "oldestFirst") {
      spec.order = BackfillOrder::kOldestFirst;
    } else if (*order == "newestFirst") {
      spec.order = BackfillOrder::kNewestFirst;
    } else {
      reader.error("order", "must be oldestFirst or newestFirst, got " + quote_value(*order));
    }
  }
  spec.pause_between = reader.duration("pauseBetween", true).value_or(spec.pause_between);
  if (auto replaced = reader.string("replaced")) {
    if (*replaced == "keep") {
      spec.replaced = ReplacedPartition::kKeep;
    } else if (*replaced == "drop") {
      spec.replaced = ReplacedPartition::kDrop;
    } else {
      reader.error("replaced", "must be keep or drop, got " + quote_value(*replaced));
    }
  }
  spec.suspend = reader.boolean("suspend").value_or(false);
  if (const auto slices = reader.integer("slicesPerPartition", 1, 10000)) {
    spec.slices_per_partition = static_cast<int>(*slices);
  }
  if (const json* value = reader.object("guards")) {
    read_guards(*value, reader.field_path("guards"), spec.guards, errors);
  }
  if (const json* value = reader.object("databaseRef")) {
    spec.database_ref = read_database_ref(*value, reader.field_path("databaseRef"), errors);
  }
  reader.finish();
  if (spec.source == spec.table && !spec.table.name.empty()) {
    errors.push_back(
        {"spec.source", "must not be the table itself (" + spec.table.display() + ")"});
  }
  return spec;
}

}  // namespace

std::optional<RangeBound> parse_range_bound(const json& value) {
  RangeBound bound;
  if (value.is_number_integer()) {
    bound.integer = value.get<int64_t>();
    bound.text = std::to_string(*bound.integer);
    return bound;
  }
  if (!value.is_string()) return std::nullopt;
  bound.text = value.get<std::string>();
  bound.time = parse_time(bound.text);
  bound.integer = parse_integer(bound.text);
  if (!bound.time && !bound.integer) return std::nullopt;
  return bound;
}

ParsedBackfill parse_backfill(const json& object) {
  ParsedBackfill result;
  Backfill backfill;
  const bool valid = read_resource(object, kBackfillKind, result.errors, backfill, read_spec);
  result.name = backfill.name;
  if (valid) result.backfill = std::move(backfill);
  return result;
}

}  // namespace partop
