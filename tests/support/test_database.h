// Test support for integration tests: the real PostgreSQL started by tests/postgres.sh (a CTest
// fixture), one fresh database per test, and the partop binary.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/outcome.h"
#include "reconcilers/partition/policy.h"

namespace partop::testing {

// DSN of the fixture's primary (postgres database) and, when started, of its replica.
const std::string& server_dsn();
std::optional<std::string> replica_dsn();
// DSN (postgres database) of the fixture's logical-replication subscriber, when started.
std::optional<std::string> subscriber_dsn();

// A database created for one test and dropped (WITH FORCE) when the object goes away. It records
// every DDL command in partop_test_ddl_log through an event trigger, so a test can prove that an
// operation ran no DDL at all.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& dsn() const { return dsn_; }
  const std::string& name() const { return name_; }
  void exec(const std::string& sql) const;
  SqlRows query(const std::string& sql) const;
  // The first column of the first row, as text ("" for NULL or no row).
  std::string scalar(const std::string& sql) const;
  int64_t count(const std::string& sql) const { return std::stoll(scalar(sql)); }
  // DDL commands run since the database was created (excluding the test's own setup when
  // reset_ddl_log() was called after it).
  int64_t ddl_count() const;
  void reset_ddl_log() const;
  // Partition names of `table` in bound order, DEFAULT last.
  std::vector<std::string> partitions(const std::string& table) const;
  // Daily partitions <table>_pYYYYMMDD of a table partitioned by a timestamptz, made by hand
  // (CREATE TABLE ... PARTITION OF), for the UTC days current_date + first_day to + last_day.
  void create_daily_partitions(const std::string& table, int first_day, int last_day) const;

 private:
  std::string name_;
  std::string dsn_;
};

// The database's DSN with another user name (the fixture trusts local connections).
std::string dsn_as(const TestDatabase& database, const std::string& role);

// events (id bigint, created_at timestamptz) partitioned by range on created_at, with DEFAULT,
// a partition for today (UTC) and one for the day `expired_days_ago` days back — a table on which
// a daily policy keeping less than that must both create partitions and drop one.
void create_events_with_today_and_expired(const TestDatabase& database, int expired_days_ago);

// A Policy parsed from `spec_yaml` (the body under spec:, indented by two spaces); the test fails
// when it does not parse.
Policy make_policy(const std::string& spec_yaml, const std::string& name = "test");

// One reconcile of `policy` against `database` with the system clock, in this process.
Outcome apply_policy(const TestDatabase& database, const Policy& policy);
Outcome observe_policy(const TestDatabase& database, const Policy& policy);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `binary` with `args` (shell-quoted here), PARTOP_DSN unset and `env` ("NAME=value") set.
CommandResult run_command(const std::string& binary, const std::vector<std::string>& args,
                          const std::vector<std::string>& env = {});

// Writes `text` to a fresh temporary file and returns its path.
std::string write_temp_file(const std::string& text, const std::string& suffix = ".yaml");

}  // namespace partop::testing
