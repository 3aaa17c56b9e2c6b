#include "reconcilers/partition/key_space.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace partop {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr int64_t kSecondsPerDay = 86'400;

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

struct CivilTime {
  year_month_day date;
  int64_t second_of_day;
};

CivilTime split(KeyValue epoch) {
  const int64_t day = floor_div(epoch, kSecondsPerDay);
  return {year_month_day{sys_days{days{day}}}, epoch - day * kSecondsPerDay};
}

KeyValue join(year_month_day date, int64_t second_of_day = 0) {
  return static_cast<KeyValue>(sys_days{date}.time_since_epoch().count()) * kSecondsPerDay +
         second_of_day;
}

// First day of the month that is `months` months after the month of `date`.
year_month_day add_months(year_month_day date, int64_t months) {
  const int64_t index =
      static_cast<int>(date.year()) * 12LL + (static_cast<unsigned>(date.month()) - 1) + months;
  const int64_t year = floor_div(index, 12);
  const int64_t month = index - year * 12 + 1;
  return year_month_day{std::chrono::year{static_cast<int>(year)},
                        std::chrono::month{static_cast<unsigned>(month)}, std::chrono::day{1}};
}

int months_per_cell(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMonth:
      return 1;
    case TimeUnit::kQuarter:
      return 3;
    case TimeUnit::kYear:
      return 12;
    default:
      return 0;
  }
}

int64_t fixed_seconds_per_cell(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kHour:
      return 3600;
    case TimeUnit::kDay:
      return kSecondsPerDay;
    case TimeUnit::kWeek:
      return 7 * kSecondsPerDay;
    default:
      return 0;
  }
}

// 1970-01-05 was a Monday; week cells are aligned to it.
constexpr int64_t kMondayOffset = 4 * kSecondsPerDay;

}  // namespace

std::optional<KeyType> key_type_from_sql(std::string_view name) {
  if (name == "timestamp with time zone") return KeyType::kTimestampTz;
  if (name == "timestamp without time zone") return KeyType::kTimestamp;
  if (name == "date") return KeyType::kDate;
  if (name == "integer") return KeyType::kInteger;
  if (name == "bigint") return KeyType::kBigint;
  return std::nullopt;
}

std::string_view key_type_sql_name(KeyType type) {
  switch (type) {
    case KeyType::kTimestampTz:
      return "timestamptz";
    case KeyType::kTimestamp:
      return "timestamp";
    case KeyType::kDate:
      return "date";
    case KeyType::kInteger:
      return "integer";
    case KeyType::kBigint:
      return "bigint";
  }
  return "";
}

bool is_time_key(KeyType type) {
  return type == KeyType::kTimestampTz || type == KeyType::kTimestamp || type == KeyType::kDate;
}

std::optional<TimeUnit> time_unit_from_name(std::string_view name) {
  if (name == "hourly") return TimeUnit::kHour;
  if (name == "daily") return TimeUnit::kDay;
  if (name == "weekly") return TimeUnit::kWeek;
  if (name == "monthly") return TimeUnit::kMonth;
  if (name == "quarterly") return TimeUnit::kQuarter;
  if (name == "yearly") return TimeUnit::kYear;
  return std::nullopt;
}

std::string_view time_unit_trunc_field(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kHour:
      return "hour";
    case TimeUnit::kDay:
      return "day";
    case TimeUnit::kWeek:
      return "week";
    case TimeUnit::kMonth:
      return "month";
    case TimeUnit::kQuarter:
      return "quarter";
    case TimeUnit::kYear:
      return "year";
  }
  return "";
}

KeyValue PartitionGrid::floor(KeyValue value) const {
  if (!is_time()) return floor_div(value, width_) * width_;
  if (const int64_t cell = fixed_seconds_per_cell(*unit_); cell > 0) {
    const int64_t offset = *unit_ == TimeUnit::kWeek ? kMondayOffset : 0;
    return floor_div(value - offset, cell) * cell + offset;
  }
  const year_month_day date = split(value).date;
  const int per_cell = months_per_cell(*unit_);
  const int64_t month_index = (static_cast<unsigned>(date.month()) - 1);
  return join(add_months(date, -(month_index % per_cell)));
}

KeyValue PartitionGrid::advance(KeyValue cell_start, int64_t steps) const {
  if (!is_time()) return cell_start + steps * width_;
  if (const int64_t cell = fixed_seconds_per_cell(*unit_); cell > 0) {
    return cell_start + steps * cell;
  }
  return join(add_months(split(cell_start).date, steps * months_per_cell(*unit_)));
}

KeyValue shift_months(KeyValue time, int64_t months) {
  const CivilTime t = split(time);
  const year_month_day first = add_months(t.date, months);
  const std::chrono::year_month_day_last last{first.year(),
                                              std::chrono::month_day_last{first.month()}};
  const std::chrono::day day = std::min(t.date.day(), last.day());
  return join(year_month_day{first.year(), first.month(), day}, t.second_of_day);
}

KeyValue epoch_seconds(int year, unsigned month, unsigned day, int hour, int minute, int second) {
  return join(
      year_month_day{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}},
      hour * 3600LL + minute * 60LL + second);
}

namespace {

std::string format_civil(KeyValue value, const char* date_format, const char* time_format) {
  const CivilTime t = split(value);
  char buffer[64];
  int n = std::snprintf(buffer, sizeof buffer, date_format, static_cast<int>(t.date.year()),
                        static_cast<unsigned>(t.date.month()), static_cast<unsigned>(t.date.day()));
  if (time_format != nullptr) {
    std::snprintf(
        buffer + n, sizeof buffer - n, time_format, static_cast<int>(t.second_of_day / 3600),
        static_cast<int>(t.second_of_day / 60 % 60), static_cast<int>(t.second_of_day % 60));
  }
  return buffer;
}

}  // namespace

std::string key_literal(KeyType type, KeyValue value) {
  if (value == kUnboundedBelow) return "MINVALUE";
  if (value == kUnboundedAbove) return "MAXVALUE";
  switch (type) {
    case KeyType::kTimestampTz:
      return "'" + format_civil(value, "%04d-%02u-%02u", " %02d:%02d:%02d+00") + "'";
    case KeyType::kTimestamp:
      return "'" + format_civil(value, "%04d-%02u-%02u", " %02d:%02d:%02d") + "'";
    case KeyType::kDate:
      return "'" + format_civil(value, "%04d-%02u-%02u", nullptr) + "'";
    case KeyType::kInteger:
    case KeyType::kBigint:
      return std::to_string(value);
  }
  return "";
}

std::string key_display(KeyType type, KeyValue value) {
  if (value == kUnboundedBelow) return "MINVALUE";
  if (value == kUnboundedAbove) return "MAXVALUE";
  if (!is_time_key(type)) return std::to_string(value);
  return format_civil(value, "%04d-%02u-%02u", "T%02d:%02d:%02dZ");
}

std::string partition_suffix(const PartitionGrid& grid, KeyValue lower) {
  if (!grid.is_time()) {
    return lower < 0 ? "m" + std::to_string(lower).substr(1) : std::to_string(lower);
  }
  return format_civil(lower, "%04d%02u%02u", grid.unit() == TimeUnit::kHour ? "_%02d" : nullptr);
}

}  // namespace partop
