#include "operator/command_line.h"

#include <cstdlib>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "operator/cli.h"
#include "operator/manager.h"
#include "reconcilers/document/duration.h"

namespace partop::cli {
namespace {

constexpr const char* kFilesHelp =
    "a policy, migration or backfill file, or a directory of *.yaml files (repeatable)";
constexpr const char* kDsnHelp = "the database, a libpq URI or key=value string";

// -f, --dsn and -o, shared by plan, apply and status.
void add_file_options(CLI::App& command, CommandOptions& options) {
  command.add_option("-f,--filename", options.files, kFilesHelp)->required();
  command.add_option("--dsn", options.dsn, kDsnHelp)->envname("PARTOP_DSN");
  command.add_option("-o,--output", options.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
}

// A CLI11 check that the option is a duration (reconcilers/document/duration.h).
CLI::Validator duration_check() {
  return CLI::Validator(
      [](const std::string& text) {
        return parse_duration(text) ? std::string() : "a duration such as 60s or 0 is needed";
      },
      "DURATION");
}

void add_operator_options(CLI::App& command, OperatorOptions& options, std::string& interval) {
  command.add_option("--kubeconfig", options.kubeconfig,
                     "a kubeconfig file; without it, the in-cluster service account");
  command.add_option("--namespace", options.namespaces,
                     "a namespace to watch (repeatable); without it, all namespaces");
  command
      .add_option("--metrics-bind-address", options.metrics_bind_address,
                  "where /metrics is served; 0 for nowhere")
      ->capture_default_str();
  command
      .add_option("--health-probe-bind-address", options.health_probe_bind_address,
                  "where /healthz and /readyz are served; 0 for nowhere")
      ->capture_default_str();
  command.add_flag("--leader-elect", options.leader_elect,
                   "reconcile only while holding the leader Lease (--leader-elect=false: always)");
  command.add_option("--leader-election-namespace", options.leader_election_namespace,
                     "the Lease's namespace; default: the kubeconfig's or the pod's");
  command.add_option("--leader-election-id", options.leader_election_id, "the Lease's name")
      ->capture_default_str();
  command
      .add_option("--max-concurrent-reconciles", options.max_concurrent_reconciles,
                  "workers per kind")
      ->check(CLI::Range(1, 999))
      ->capture_default_str();
  command
      .add_option("--max-connections-per-database", options.max_connections_per_database,
                  "sessions kept and reused per database, over every kind's workers")
      ->check(CLI::Range(1, 999))
      ->capture_default_str();
  command
      .add_option("--database-check-interval", interval,
                  "how often each database is probed for reachability, e.g. 60s; 0: never")
      ->check(duration_check())
      ->default_str("60s");
}

// The check CLI11 cannot express: a database is needed, from --dsn or PARTOP_DSN.
int needs_database(const CommandOptions& options, int (*run)(const CommandOptions&)) {
  if (options.dsn.empty()) {
    std::cerr << "partop: no database: pass --dsn URI or set PARTOP_DSN\n";
    return kExitUsage;
  }
  return run(options);
}

}  // namespace

int run_command_line(int argc, char** argv) {
  CLI::App app("partop: PostgreSQL partitioned tables kept as declared", "partop");
  app.set_version_flag("--version", std::string("partop ") + PARTOP_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 every object Ready, 1 any not Ready, 2 usage or file errors.\n"
      "Run 'partop COMMAND --help' for a command's options.");

  CommandOptions files;
  CLI::App* plan = app.add_subcommand("plan", "print the actions and exact SQL apply would run");
  CLI::App* apply = app.add_subcommand("apply", "reconcile each object once");
  CLI::App* status = app.add_subcommand("status", "report the observed state only (read-only)");
  for (CLI::App* command : {plan, apply, status}) add_file_options(*command, files);
  std::string retry_for = "0s";
  apply
      ->add_option("--retry-for", retry_for,
                   "retry the policies a guard held back (lock, lag, another runner), 250 ms "
                   "then 500 ms apart, for up to this long, e.g. 5m; 0: run once")
      ->check(duration_check())
      ->default_str("0s");

  CommandOptions loop;
  CLI::App* run =
      app.add_subcommand("run", "reconcile every object in a directory on its schedule");
  run->add_option("--policies", loop.policies_dir, "the directory of policy files")
      ->required()
      ->check(CLI::ExistingDirectory);
  run->add_option("--dsn", loop.dsn, kDsnHelp)->envname("PARTOP_DSN");
  run->add_option("--metrics-bind-address", loop.metrics_bind_address,
                  "where /metrics is served, e.g. 127.0.0.1:9090; 0 for nowhere")
      ->capture_default_str();

  OperatorOptions operator_options;
  std::string interval = "60s";
  CLI::App* operate = app.add_subcommand("operator",
                                         "reconcile PartitionPolicy, PartitionMigration and "
                                         "PartitionBackfill objects from Kubernetes");
  add_operator_options(*operate, operator_options, interval);

  CLI::App* version = app.add_subcommand("version", "print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);  // prints the help, the version or the error
    return code == 0 ? 0 : kExitUsage;
  }
  if (*plan) return needs_database(files, run_plan);
  if (*apply) {
    files.retry_for = *parse_duration(retry_for);
    return needs_database(files, run_apply);
  }
  if (*status) return needs_database(files, run_status);
  if (*run) return needs_database(loop, run_loop);
  if (*operate) {
    operator_options.database_check_interval = *parse_duration(interval);
    return run_operator_command(operator_options);
  }
  if (*version) {
    std::cout << "partop " << PARTOP_VERSION << "\n";
    return 0;
  }
  return kExitUsage;  // require_subcommand(1) makes this unreachable
}

}  // namespace partop::cli
