#include "reconcilers/partition/key_space.h"

#include <doctest/doctest.h>

namespace partop {

TEST_CASE("time grids floor onto UTC calendar cells") {
  const KeyValue t = epoch_seconds(2026, 11, 21, 7, 45, 12);  // a Saturday
  CHECK(PartitionGrid::time(TimeUnit::kHour).floor(t) == epoch_seconds(2026, 11, 21, 7));
  CHECK(PartitionGrid::time(TimeUnit::kDay).floor(t) == epoch_seconds(2026, 11, 21));
  CHECK(PartitionGrid::time(TimeUnit::kWeek).floor(t) == epoch_seconds(2026, 11, 16));  // Monday
  CHECK(PartitionGrid::time(TimeUnit::kMonth).floor(t) == epoch_seconds(2026, 11, 1));
  CHECK(PartitionGrid::time(TimeUnit::kQuarter).floor(t) == epoch_seconds(2026, 10, 1));
  CHECK(PartitionGrid::time(TimeUnit::kYear).floor(t) == epoch_seconds(2026, 1, 1));
}

TEST_CASE("time grids advance across month and year ends") {
  const auto monthly = PartitionGrid::time(TimeUnit::kMonth);
  CHECK(monthly.advance(epoch_seconds(2026, 11, 1), 3) == epoch_seconds(2027, 2, 1));
  CHECK(monthly.advance(epoch_seconds(2026, 1, 1), -1) == epoch_seconds(2025, 12, 1));
  const auto quarterly = PartitionGrid::time(TimeUnit::kQuarter);
  CHECK(quarterly.next(epoch_seconds(2026, 10, 1)) == epoch_seconds(2027, 1, 1));
  const auto weekly = PartitionGrid::time(TimeUnit::kWeek);
  CHECK(weekly.next(epoch_seconds(2026, 12, 28)) == epoch_seconds(2027, 1, 4));
}

TEST_CASE("grids handle times before the epoch") {
  const auto daily = PartitionGrid::time(TimeUnit::kDay);
  CHECK(daily.floor(epoch_seconds(1969, 12, 31, 23)) == epoch_seconds(1969, 12, 31));
  CHECK(PartitionGrid::time(TimeUnit::kWeek).floor(epoch_seconds(1970, 1, 1)) ==
        epoch_seconds(1969, 12, 29));
  CHECK(PartitionGrid::time(TimeUnit::kMonth).floor(epoch_seconds(1969, 7, 4)) ==
        epoch_seconds(1969, 7, 1));
}

TEST_CASE("integer grids floor towards negative infinity") {
  const auto grid = PartitionGrid::integer(1000);
  CHECK(grid.floor(0) == 0);
  CHECK(grid.floor(1999) == 1000);
  CHECK(grid.floor(-1) == -1000);
  CHECK(grid.advance(1000, 2) == 3000);
}

TEST_CASE("shift_months clamps the day of month") {
  CHECK(shift_months(epoch_seconds(2026, 3, 31, 12), -1) == epoch_seconds(2026, 2, 28, 12));
  CHECK(shift_months(epoch_seconds(2024, 3, 31), -1) == epoch_seconds(2024, 2, 29));
  CHECK(shift_months(epoch_seconds(2026, 1, 15), -13) == epoch_seconds(2024, 12, 15));
}

TEST_CASE("literals and names per key type") {
  const KeyValue t = epoch_seconds(2026, 1, 2, 3, 4, 5);
  CHECK(key_literal(KeyType::kTimestampTz, t) == "'2026-01-02 03:04:05+00'");
  CHECK(key_literal(KeyType::kTimestamp, t) == "'2026-01-02 03:04:05'");
  CHECK(key_literal(KeyType::kDate, epoch_seconds(2026, 1, 2)) == "'2026-01-02'");
  CHECK(key_literal(KeyType::kBigint, -42) == "-42");
  CHECK(key_literal(KeyType::kInteger, kUnboundedAbove) == "MAXVALUE");
  CHECK(key_display(KeyType::kTimestampTz, t) == "2026-01-02T03:04:05Z");
  CHECK(partition_suffix(PartitionGrid::time(TimeUnit::kDay), t) == "20260102");
  CHECK(partition_suffix(PartitionGrid::time(TimeUnit::kHour), epoch_seconds(2026, 1, 2, 3)) ==
        "20260102_03");
  CHECK(partition_suffix(PartitionGrid::integer(10), -20) == "m20");
}

TEST_CASE("key types come from format_type names") {
  CHECK(key_type_from_sql("timestamp with time zone") == KeyType::kTimestampTz);
  CHECK(key_type_from_sql("bigint") == KeyType::kBigint);
  CHECK_FALSE(key_type_from_sql("text").has_value());
  CHECK_FALSE(key_type_from_sql("numeric").has_value());
}

}  // namespace partop
