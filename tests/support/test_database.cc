#include "tests/support/test_database.h"

#include <doctest/doctest.h>
#include <unistd.h>
#include <pqxx/pqxx>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>

#include "reconcilers/list/list_reconciler.h"
#include "reconcilers/partition/pg_session.h"
#include "reconcilers/partition/policy_parser.h"

namespace partop::testing {
namespace {

std::map<std::string, std::string> read_env_file() {
  const char* path = std::getenv("PARTOP_PG_ENV");
  if (path == nullptr) throw std::runtime_error("PARTOP_PG_ENV is not set: run through ctest");
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("cannot read ") + path);
  std::map<std::string, std::string> env;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

const std::map<std::string, std::string>& env() {
  static const auto values = read_env_file();
  return values;
}

std::string with_database(const std::string& dsn, const std::string& database) {
  return dsn.substr(0, dsn.rfind('/') + 1) + database;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

const std::string& server_dsn() {
  return env().at("PARTOP_TEST_DSN");
}

namespace {

std::optional<std::string> env_value(const std::string& name) {
  const auto it = env().find(name);
  if (it == env().end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::optional<std::string> replica_dsn() {
  return env_value("PARTOP_TEST_REPLICA_DSN");
}

std::optional<std::string> subscriber_dsn() {
  return env_value("PARTOP_TEST_SUBSCRIBER_DSN");
}

TestDatabase::TestDatabase() {
  static std::atomic<int> counter{0};
  name_ = "partop_t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  open_pg_session(server_dsn())->query("CREATE DATABASE " + name_);
  dsn_ = with_database(server_dsn(), name_);
  exec(R"(
    CREATE TABLE partop_test_ddl_log (at timestamptz DEFAULT clock_timestamp(), tag text, object text);
    CREATE FUNCTION partop_test_log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
    DECLARE r record;
    BEGIN
      FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
        INSERT INTO partop_test_ddl_log (tag, object) VALUES (r.command_tag, r.object_identity);
      END LOOP;
    END $$;
    CREATE EVENT TRIGGER partop_test_log_ddl ON ddl_command_end EXECUTE FUNCTION partop_test_log_ddl();
    CREATE FUNCTION partop_test_log_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO partop_test_ddl_log (tag, object) VALUES (tg_tag, NULL);
    END $$;
    CREATE EVENT TRIGGER partop_test_log_drop ON sql_drop EXECUTE FUNCTION partop_test_log_drop();
  )");
  reset_ddl_log();
}

TestDatabase::~TestDatabase() {
  try {
    open_pg_session(server_dsn())->query("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // Left behind for inspection; the server's directory is removed by the fixture cleanup.
  }
}

void TestDatabase::exec(const std::string& sql) const {
  // The simple query protocol, so one call may hold several statements.
  pqxx::connection connection(dsn_);
  pqxx::nontransaction(connection).exec(sql);
}

SqlRows TestDatabase::query(const std::string& sql) const {
  return open_pg_session(dsn_)->query(sql);
}

std::string TestDatabase::scalar(const std::string& sql) const {
  const SqlRows rows = query(sql);
  if (rows.empty() || rows[0].empty() || !rows[0][0]) return "";
  return *rows[0][0];
}

int64_t TestDatabase::ddl_count() const {
  return count("SELECT count(*) FROM partop_test_ddl_log");
}

void TestDatabase::reset_ddl_log() const {
  exec("TRUNCATE partop_test_ddl_log");
}

void TestDatabase::create_daily_partitions(const std::string& table, int first_day,
                                           int last_day) const {
  exec(
      "SET timezone = 'UTC';\nDO $$ BEGIN\n"
      "  FOR i IN " +
      std::to_string(first_day) + ".." + std::to_string(last_day) +
      " LOOP\n"
      "    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',\n"
      "                   '" +
      table + "_p' || to_char(current_date + i, 'YYYYMMDD'), '" + table +
      "',\n"
      "                   (current_date + i)::timestamp AT TIME ZONE 'UTC',\n"
      "                   (current_date + i + 1)::timestamp AT TIME ZONE 'UTC');\n"
      "  END LOOP;\n"
      "END $$");
}

std::vector<std::string> TestDatabase::partitions(const std::string& table) const {
  std::vector<std::string> names;
  for (const auto& row :
       query("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
             " WHERE i.inhparent = '" +
             table +
             "'::regclass"
             " ORDER BY pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.relname")) {
    names.push_back(*row[0]);
  }
  return names;
}

void create_events_with_today_and_expired(const TestDatabase& database, int expired_days_ago) {
  const std::string days = std::to_string(expired_days_ago);
  database.exec(
      "CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL)"
      "  PARTITION BY RANGE (created_at);"
      "CREATE TABLE events_default PARTITION OF events DEFAULT;"
      "CREATE TABLE events_today PARTITION OF events FOR VALUES FROM (date_trunc('day', now(), "
      "'UTC'))"
      "  TO (date_trunc('day', now(), 'UTC') + interval '1 day');"
      "CREATE TABLE events_expired PARTITION OF events"
      "  FOR VALUES FROM (date_trunc('day', now(), 'UTC') - interval '" +
      days +
      " days')"
      "  TO (date_trunc('day', now(), 'UTC') - interval '" +
      days + " days' + interval '1 day');");
}

std::string dsn_as(const TestDatabase& database, const std::string& role) {
  std::string dsn = database.dsn();
  const auto at = dsn.find("postgres@");
  REQUIRE(at != std::string::npos);
  return dsn.replace(at, std::string("postgres").size(), role);
}

Policy make_policy(const std::string& spec_yaml, const std::string& name) {
  const auto parsed = parse_policy_yaml(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionPolicy\n"
      "metadata: {name: " +
      name + "}\nspec:\n" + spec_yaml);
  REQUIRE(parsed.size() == 1);
  REQUIRE_MESSAGE(parsed[0].ok(), parsed[0].error_summary());
  return *parsed[0].policy;
}

namespace {

Outcome reconcile(const TestDatabase& database, const Policy& policy, ReconcileMode mode) {
  static const SystemClock clock;
  const auto session = open_pg_session(database.dsn(), policy.spec.guards.lock_timeout);
  return reconcile_policy(*session, policy, mode, clock);
}

}  // namespace

Outcome apply_policy(const TestDatabase& database, const Policy& policy) {
  return reconcile(database, policy, ReconcileMode::kApply);
}

Outcome observe_policy(const TestDatabase& database, const Policy& policy) {
  return reconcile(database, policy, ReconcileMode::kObserve);
}

CommandResult run_command(const std::string& binary, const std::vector<std::string>& args,
                          const std::vector<std::string>& env) {
  std::string command = "env -u PARTOP_DSN";
  for (const auto& assignment : env) command += " " + shell_quote(assignment);
  command += " " + shell_quote(binary);
  for (const auto& arg : args) command += " " + shell_quote(arg);
  command += " 2>&1";
  CommandResult result;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0)
    result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe.release());
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string write_temp_file(const std::string& text, const std::string& suffix) {
  std::string path = "/tmp/partop-test-XXXXXX" + suffix;
  const int fd = ::mkstemps(path.data(), static_cast<int>(suffix.size()));
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
  return path;
}

}  // namespace partop::testing
