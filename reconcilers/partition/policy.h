// PartitionPolicy: the declaration partop drives a partitioned table towards. The same shape as
// the custom resource's spec, after defaults are applied and values validated by policy_parser.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/document/resource.h"
#include "reconcilers/partition/key_space.h"

namespace partop {

struct QualifiedName {
  std::string schema;
  std::string name;
  std::string display() const { return schema + "." + name; }
  bool operator==(const QualifiedName&) const = default;
};

struct IndexSpec {
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;
  std::string method = "btree";
  std::vector<std::string> include;
  std::string where;                       // partial index predicate, canonical SQL; "" = none
  std::vector<std::string> where_columns;  // the columns the predicate names
};

// How far back partitions are kept. Time keys count calendar units back from now; integer keys
// count key values back from the current maximum key.
struct RetentionSpec {
  enum class Unit { kHours, kDays, kWeeks, kMonths, kYears, kKeys };
  int64_t amount = 0;
  Unit unit = Unit::kDays;
  enum class Action { kDrop, kDetach };
  Action action = Action::kDrop;
};

struct StorageGuardSpec {
  int64_t capacity_bytes = 0;
  int threshold_percent = 80;
};

struct GuardSpec {
  std::chrono::milliseconds lock_timeout{2000};
  std::chrono::milliseconds statement_timeout{30000};
  // Steps that are long by nature get limits of their own: moving one cell's rows out of DEFAULT
  // (one transaction, whatever the row count, so that no row is ever in neither place) and
  // CREATE / REINDEX INDEX CONCURRENTLY on a large partition.
  std::chrono::milliseconds drain_timeout{600000};
  std::chrono::milliseconds index_build_timeout{21600000};
  std::chrono::milliseconds max_replication_lag{5000};
  std::optional<StorageGuardSpec> storage;
};

// A daily window in which retention and index rebuilds may run. Minutes since midnight in
// `time_zone`; end may be before start (the window wraps midnight).
struct MaintenanceWindow {
  int start_minute = 0;
  int end_minute = 0;
  std::string time_zone = "UTC";
};

struct ScheduleSpec {
  std::chrono::milliseconds resync_interval{600000};
  std::optional<MaintenanceWindow> maintenance_window;
};

struct DatabaseRef {
  std::string secret_name;
  std::string key = "uri";
};

// The interval as written: a calendar unit for time keys or a width for integer keys. Which one
// is valid depends on the table's key type, known only once the catalog has been read.
struct IntervalSpec {
  std::optional<TimeUnit> unit;
  int64_t width = 0;
  std::string text;
};

// Where a list-partitioned table's values come from: the distinct non-NULL values of `column` in
// `table`, only from rows where the boolean column `where_column` is true when it is set.
struct ValuesSource {
  QualifiedName table;
  std::string column;
  std::string where_column;  // "" = every row
};

// spec.list: the parent is PARTITION BY LIST (column); every value gets its partition. With an
// interval, each value's partition is itself PARTITION BY RANGE (time_key) and is maintained like
// a range-partitioned table (premake, DEFAULT, indexes, retention); without one it is a leaf.
struct ListSpec {
  std::string column;
  std::vector<std::string> values;  // as written; canonicalised by the server when read
  std::optional<ValuesSource> values_from;
  std::string time_key;  // "" without an interval
};

struct PolicySpec {
  QualifiedName table;
  std::optional<ListSpec> list;
  IntervalSpec interval;  // empty text: none (allowed only with a list)
  int premake = 7;
  bool default_enabled = true;
  bool default_drain = true;
  std::vector<IndexSpec> indexes;
  std::optional<RetentionSpec> retention;
  GuardSpec guards;
  ScheduleSpec schedule;
  bool suspend = false;
  std::optional<DatabaseRef> database_ref;
  // Set by kinds that maintain a table under a name it does not have yet (a migration's twin),
  // never read from a document: partitions are named after this name instead of the table's,
  // and the layout reaches back to the cell holding `cover_from`.
  std::optional<std::string> partition_name_base;
  std::optional<KeyValue> cover_from;

  bool has_interval() const { return !interval.text.empty(); }
};

using Policy = Resource<PolicySpec>;

}  // namespace partop
