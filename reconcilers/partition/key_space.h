// The partition key's value space: the supported key types, the interval grid partitions are cut
// on, and how a key value is written as a SQL literal and into a partition name.
//
// Every key value is an int64: integer keys are themselves; time keys are seconds since the Unix
// epoch in UTC (a `timestamp` or `date` is read as UTC wall-clock time). kUnbounded{Below,Above}
// stand for MINVALUE / MAXVALUE bounds.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace partop {

using KeyValue = int64_t;
inline constexpr KeyValue kUnboundedBelow = std::numeric_limits<int64_t>::min();
inline constexpr KeyValue kUnboundedAbove = std::numeric_limits<int64_t>::max();

enum class KeyType { kTimestampTz, kTimestamp, kDate, kInteger, kBigint };

// Maps a PostgreSQL type name as printed by format_type() ("timestamp with time zone", "bigint")
// to a supported key type; nullopt when partop cannot partition on it.
std::optional<KeyType> key_type_from_sql(std::string_view format_type_name);
std::string_view key_type_sql_name(KeyType type);
bool is_time_key(KeyType type);

enum class TimeUnit { kHour, kDay, kWeek, kMonth, kQuarter, kYear };
std::optional<TimeUnit> time_unit_from_name(std::string_view name);  // "hourly" ... "yearly"
// The date_trunc() field that floors a value onto this grid ("hour", "week", ...).
std::string_view time_unit_trunc_field(TimeUnit unit);

// The grid partitions are cut on: calendar units (UTC, weeks start Monday) for time keys, or a
// fixed positive width for integer keys.
class PartitionGrid {
 public:
  static PartitionGrid time(TimeUnit unit) { return PartitionGrid(unit, 0); }
  static PartitionGrid integer(int64_t width) { return PartitionGrid(std::nullopt, width); }

  bool is_time() const { return unit_.has_value(); }
  TimeUnit unit() const { return *unit_; }
  int64_t width() const { return width_; }

  // Lower bound of the grid cell holding `value`.
  KeyValue floor(KeyValue value) const;
  // Lower bound of the cell `steps` cells after the one starting at `cell_start` (may be negative).
  KeyValue advance(KeyValue cell_start, int64_t steps) const;
  KeyValue next(KeyValue cell_start) const { return advance(cell_start, 1); }

 private:
  PartitionGrid(std::optional<TimeUnit> unit, int64_t width) : unit_(unit), width_(width) {}
  std::optional<TimeUnit> unit_;
  int64_t width_;
};

// A SQL literal for a bound value of this key type, e.g. '2026-01-01 00:00:00+00', '2026-01-01',
// 42, MINVALUE. Generated from numbers only, never from user text.
std::string key_literal(KeyType type, KeyValue value);

// Human form used in status and logs: RFC 3339 for time keys, digits for integers.
std::string key_display(KeyType type, KeyValue value);

// The suffix after "<table>_p" that names a partition starting at `lower`:
// YYYYMMDD, YYYYMMDD_HH for hourly grids, the decimal bound for integers ("m" for minus).
std::string partition_suffix(const PartitionGrid& grid, KeyValue lower);

// `time` moved by whole calendar months, keeping the time of day and clamping the day of month
// (March 31 minus one month is February 28 or 29).
KeyValue shift_months(KeyValue time, int64_t months);

// Seconds since the epoch for a UTC civil date-time; the inverse of the split used by key_literal.
KeyValue epoch_seconds(int year, unsigned month, unsigned day, int hour = 0, int minute = 0,
                       int second = 0);

}  // namespace partop
