// The partop binary against a real PostgreSQL: exit codes, plan = apply, hostile input, secrets.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "reconcilers/partition/pg_session.h"
#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

std::string policy_yaml(const std::string& spec, const std::string& name = "events") {
  return "apiVersion: partop.dev/v1alpha1\nkind: PartitionPolicy\nmetadata:\n  name: " + name +
         "\nspec:\n" + spec;
}

CommandResult run_partop(const std::vector<std::string>& args) {
  return run_command(PARTOP_BIN, args);
}

void create_events(const TestDatabase& db) {
  db.exec(
      "CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE "
      "(created_at)");
  db.reset_ddl_log();
}

}  // namespace

TEST_CASE("plan prints the SQL and runs nothing, apply runs exactly that SQL") {
  TestDatabase db;
  create_events(db);
  const std::string file =
      write_temp_file(policy_yaml("  table: events\n  interval: daily\n  premake: 2\n"));
  const CommandResult plan = run_partop({"plan", "-f", file, "--dsn", db.dsn()});
  CHECK(plan.exit_code == 0);
  CHECK(db.ddl_count() == 0);
  CHECK(plan.output.find("-- 1. create DEFAULT partition public.events_default") !=
        std::string::npos);
  CHECK(plan.output.find("SET LOCAL lock_timeout = '2000ms';") != std::string::npos);

  const CommandResult apply = run_partop({"apply", "-f", file, "--dsn", db.dsn()});
  CHECK_MESSAGE(apply.exit_code == 0, apply.output);
  // Every CREATE TABLE / ALTER TABLE that apply ran was announced by plan, in the same order.
  size_t position = 0;
  for (const auto& row : db.query(
           "SELECT tag, object FROM partop_test_ddl_log WHERE tag = 'CREATE TABLE' ORDER BY at")) {
    const std::string name = row[1]->substr(row[1]->find('.') + 1);
    const size_t found = plan.output.find("CREATE TABLE \"public\".\"" + name + "\"", position);
    CHECK_MESSAGE(found != std::string::npos, name);
    position = found == std::string::npos ? position : found;
  }
  const CommandResult again = run_partop({"plan", "-f", file, "--dsn", db.dsn()});
  CHECK(again.output.find(": 0 action(s)") != std::string::npos);
}

TEST_CASE("apply -o json and status report figures and conditions") {
  TestDatabase db;
  create_events(db);
  const std::string file =
      write_temp_file(policy_yaml("  table: events\n  interval: monthly\n  premake: 3\n"));
  CommandResult status = run_partop({"status", "-f", file, "--dsn", db.dsn(), "-o", "json"});
  CHECK(status.exit_code == 1);
  CHECK(db.ddl_count() == 0);
  const CommandResult apply = run_partop({"apply", "-f", file, "--dsn", db.dsn(), "-o", "json"});
  REQUIRE_MESSAGE(apply.exit_code == 0, apply.output);
  const auto json = nlohmann::json::parse(apply.output);
  const auto& outcome = json["policies"][0];
  CHECK(outcome["partitionCount"] == 4);
  CHECK(outcome["defaultRows"] == 0);
  CHECK(outcome["conditions"][0]["type"] == "Ready");
  CHECK(outcome["conditions"][0]["status"] == "True");
  status = run_partop({"status", "-f", file, "--dsn", db.dsn()});
  CHECK(status.exit_code == 0);
  CHECK(status.output.find("Ready=True") != std::string::npos);
}

TEST_CASE("apply --retry-for retries a policy held back by a guard until the blocker is gone") {
  TestDatabase db;
  create_events(db);
  const std::string file =
      write_temp_file(policy_yaml("  table: events\n  interval: daily\n  premake: 2\n"));
  // Another runner holds the table (partop's advisory lock) for 3 s, longer than lockTimeout.
  const auto hold = [&] {
    return std::async(std::launch::async, [&] {
      const auto other = open_pg_session(db.dsn());
      other->query("SELECT pg_advisory_lock(1885434484, hashtext('public.events'))");
      std::this_thread::sleep_for(std::chrono::seconds(3));
      other->query("SELECT pg_advisory_unlock_all()");
    });
  };
  auto holder = hold();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const CommandResult once = run_partop({"apply", "-f", file, "--dsn", db.dsn()});
  CHECK_MESSAGE(once.exit_code == 1, once.output);
  CHECK(once.output.find("Busy") != std::string::npos);
  CHECK(db.ddl_count() == 0);
  holder.get();

  holder = hold();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  const CommandResult retried =
      run_partop({"apply", "-f", file, "--dsn", db.dsn(), "--retry-for", "30s", "-o", "json"});
  const auto elapsed = std::chrono::steady_clock::now() - started;
  holder.get();
  CHECK_MESSAGE(retried.exit_code == 0, retried.output);
  const auto json = nlohmann::json::parse(retried.output);
  CHECK(json["policies"].size() == 1);  // the latest outcome only
  CHECK(json["policies"][0]["conditions"][0]["status"] == "True");
  CHECK(elapsed >= std::chrono::milliseconds(2500));
  CHECK(db.ddl_count() > 0);

  CHECK(run_partop({"apply", "-f", file, "--dsn", db.dsn(), "--retry-for", "soon"}).exit_code == 2);
}

TEST_CASE("invalid fields and SQL injection attempts exit 1 with the field named and zero DDL") {
  TestDatabase db;
  create_events(db);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"  table: events\n  interval: daily\n  premake: -1\n", "spec.premake"},
      {"  table: events\n  interval: daily\n  premaek: 3\n", "spec.premaek: is not a known field"},
      {"  table: events\n  interval: biweekly\n", "spec.interval"},
      {"  table: events\n  interval: daily\n  guards: {lockTimeout: soon}\n",
       "spec.guards.lockTimeout"},
      {"  table: \"events; DROP TABLE events\"\n  interval: daily\n", "spec.table"},
      {"  table: \"public.events\\\"; DROP TABLE events; --\"\n  interval: daily\n", "spec.table"},
      {"  table: pg_catalog.pg_class\n  interval: daily\n", "system schema"},
      {"  table: events\n  interval: daily\n  indexes: [{name: \"x; DROP TABLE events\", columns: "
       "[id]}]\n",
       "spec.indexes[0].name"},
      {"  table: events\n  interval: daily\n  indexes: [{name: i, columns: [\"id) ; DROP TABLE "
       "events; --\"]}]\n",
       "spec.indexes[0].columns[0]"},
      {"  table: events\n  interval: daily\n  indexes: [{name: i, columns: [id], method: \"btree; "
       "DROP\"}]\n",
       "spec.indexes[0].method"},
      {"  table: events\n  interval: daily\n  retention: {keep: \"1 day'; DROP TABLE events; "
       "--\"}\n",
       "spec.retention.keep"},
      {"  table: events\n  interval: daily\n  schedule: {maintenanceWindow: {start: \"01:00\", "
       "end: \"02:00\", "
       "timeZone: \"UTC'; DROP TABLE events; --\"}}\n",
       "spec.schedule.maintenanceWindow.timeZone"},
      {"  table: events\n  interval: daily\n  schedule: {maintenanceWindow: {start: \"01:00\", "
       "end: \"02:00\", "
       "timeZone: Mars/Olympus_Mons}}\n",
       "spec.schedule.maintenanceWindow.timeZone"},
  };
  for (const auto& [spec, expected] : cases) {
    CAPTURE(spec);
    const std::string file = write_temp_file(policy_yaml(spec));
    for (const char* command : {"apply", "plan"}) {
      const CommandResult result = run_partop({command, "-f", file, "--dsn", db.dsn()});
      CHECK(result.exit_code == 1);
      CHECK_MESSAGE(result.output.find(expected) != std::string::npos, result.output);
    }
  }
  CHECK(db.ddl_count() == 0);
  CHECK(db.scalar("SELECT to_regclass('events')") == "events");
}

TEST_CASE("one invalid policy does not stop the others in the same file") {
  TestDatabase db;
  create_events(db);
  db.exec("CREATE TABLE metrics (ts timestamptz NOT NULL) PARTITION BY RANGE (ts)");
  const std::string file = write_temp_file(
      policy_yaml("  table: events\n  interval: nope\n", "broken") + "---\n" +
      policy_yaml("  table: missing_table\n  interval: daily\n", "missing") + "---\n" +
      policy_yaml("  table: metrics\n  interval: daily\n  premake: 1\n", "metrics") + "---\n" +
      policy_yaml("  table: metrics\n  interval: daily\n", "metrics-again"));
  const CommandResult result = run_partop({"apply", "-f", file, "--dsn", db.dsn()});
  CHECK(result.exit_code == 1);
  CHECK(result.output.find("broken (?): Ready=False InvalidSpec") != std::string::npos);
  CHECK(result.output.find("missing (public.missing_table): Ready=False TableNotFound") !=
        std::string::npos);
  CHECK(result.output.find("metrics (public.metrics): Ready=True Reconciled") != std::string::npos);
  CHECK(result.output.find("metrics-again (public.metrics): Ready=False Conflict") !=
        std::string::npos);
  CHECK(db.partitions("metrics").size() == 3);
}

TEST_CASE("usage and unreadable input exit 2") {
  CHECK(run_partop({}).exit_code == 2);
  CHECK(run_partop({"frobnicate"}).exit_code == 2);
  CHECK(run_partop({"apply", "-f", "/nonexistent.yaml"}).exit_code == 2);  // no DSN
  const CommandResult missing =
      run_partop({"apply", "-f", "/nonexistent.yaml", "--dsn", server_dsn()});
  CHECK(missing.exit_code == 2);
  CHECK(missing.output.find("/nonexistent.yaml") != std::string::npos);
  const std::string broken = write_temp_file("spec: [unclosed\n");
  CHECK(run_partop({"apply", "-f", broken, "--dsn", server_dsn()}).exit_code == 2);
  CHECK(run_partop({"apply", "-f", broken, "--dsn", server_dsn(), "-o", "yaml"}).exit_code == 2);
}

TEST_CASE("every command answers --help, --version prints the version, flags take name=value") {
  for (const std::string command : {"plan", "apply", "status", "run", "operator", "version"}) {
    const CommandResult help = run_partop({command, "--help"});
    CHECK_MESSAGE(help.exit_code == 0, command << ": " << help.output);
    CHECK_MESSAGE(help.output.find("Usage:") != std::string::npos, help.output);
  }
  CHECK(run_partop({"operator", "--help"}).output.find("--database-check-interval") !=
        std::string::npos);
  CHECK(run_partop({"--help"}).exit_code == 0);
  const CommandResult version = run_partop({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.output.rfind("partop ", 0) == 0);
  CHECK(run_partop({"version"}).output == version.output);

  TestDatabase db;
  create_events(db);
  const std::string file = write_temp_file(policy_yaml("  table: events\n  interval: daily\n"));
  const CommandResult equals =
      run_partop({"status", "--filename=" + file, "--dsn=" + db.dsn(), "--output=json"});
  CHECK_MESSAGE(equals.exit_code == 1, equals.output);  // not Ready yet: nothing applied
  CHECK(nlohmann::json::parse(equals.output)["policies"][0]["conditions"][0]["type"] == "Ready");

  const auto refused = [](const std::vector<std::string>& args, const std::string& named) {
    const CommandResult result = run_partop(args);
    CHECK_MESSAGE(result.exit_code == 2, result.output);
    CHECK_MESSAGE(result.output.find(named) != std::string::npos, result.output);
  };
  refused({"operator", "--max-concurrent-reconciles", "0"}, "--max-concurrent-reconciles");
  refused({"operator", "--max-connections-per-database=1000"}, "--max-connections-per-database");
  refused({"operator", "--database-check-interval=soon"}, "--database-check-interval");
  refused({"operator", "--leader-elect=maybe"}, "--leader-elect");
  refused({"operator", "--frobnicate"}, "--frobnicate");
  refused({"run", "--policies", "/nonexistent", "--dsn", db.dsn()}, "/nonexistent");
}

TEST_CASE("a DSN's password never appears in output") {
  const std::string password = "s3cr3t-Pa55word";
  const std::string file = write_temp_file(policy_yaml("  table: events\n  interval: daily\n"));
  for (const std::string& dsn : {"postgresql://partop:" + password + "@127.0.0.1:1/nowhere",
                                 "host=127.0.0.1 port=1 user=partop password=" + password}) {
    for (const char* command : {"apply", "plan", "status"}) {
      const CommandResult result = run_partop({command, "-f", file, "--dsn", dsn});
      CHECK(result.exit_code == 1);
      CHECK(result.output.find("DatabaseUnavailable") != std::string::npos);
      CHECK_MESSAGE(result.output.find(password) == std::string::npos, result.output);
    }
  }
}

TEST_CASE("run reconciles a directory, picks up changed files, and exits 0 on SIGTERM") {
  TestDatabase db;
  create_events(db);
  char dir_template[] = "/tmp/partop-run-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string policy_path = dir + "/events.yaml";
  {
    FILE* f = std::fopen(policy_path.c_str(), "w");
    const std::string text = policy_yaml("  table: events\n  interval: daily\n  premake: 1\n");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl(PARTOP_BIN, "partop", "run", "--policies", dir.c_str(), "--dsn", db.dsn().c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto wait_for_partitions = [&](size_t n) {
    for (int i = 0; i < 100 && db.partitions("events").size() != n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return db.partitions("events").size();
  };
  CHECK(wait_for_partitions(3) == 3);  // today, tomorrow, DEFAULT
  {
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a distinct mtime
    FILE* f = std::fopen(policy_path.c_str(), "w");
    const std::string text = policy_yaml("  table: events\n  interval: daily\n  premake: 4\n");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  CHECK(wait_for_partitions(6) == 6);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("one file may mix kinds: plan shows a migration's next step, apply drives it to target") {
  TestDatabase db;
  create_events(db);
  db.exec(
      "CREATE TABLE orders (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);"
      " INSERT INTO orders SELECT i, now() - i * interval '1 hour' FROM generate_series(1, 3000) "
      "i");
  db.reset_ddl_log();
  const std::string file = write_temp_file(
      policy_yaml("  table: events\n  interval: daily\n  premake: 2\n") +
      "---\napiVersion: partop.dev/v1alpha1\nkind: PartitionMigration\nmetadata: {name: orders}\n"
      "spec:\n  table: orders\n  partitionKey: created_at\n  interval: monthly\n"
      "  acceptPerPartitionUniqueness: [orders_pkey]\n");
  const CommandResult plan = run_partop({"plan", "-f", file, "--dsn", db.dsn()});
  CHECK(plan.exit_code == 0);
  CHECK(plan.output.find("-- migration orders (public.orders): phase -, target Partitioned") !=
        std::string::npos);
  CHECK(plan.output.find("CREATE TABLE \"public\".\"orders_partitioned\" (LIKE") !=
        std::string::npos);
  CHECK(db.ddl_count() == 0);
  const CommandResult apply = run_partop({"apply", "-f", file, "--dsn", db.dsn()});
  CHECK_MESSAGE(apply.exit_code == 0, apply.output);
  CHECK(apply.output.find("orders (public.orders): Ready=True TargetReached") != std::string::npos);
  CHECK(apply.output.find("migration: phase Swapped  target Partitioned  rows copied: 3000") !=
        std::string::npos);
  CHECK(db.count("SELECT count(*) FROM orders") == 3000);
  CHECK(db.scalar("SELECT relkind FROM pg_class WHERE oid = 'orders'::regclass") == "p");
}

}  // namespace partop::testing
