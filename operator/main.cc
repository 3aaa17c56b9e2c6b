// Entry point: dispatches the subcommand.
#include <iostream>
#include <string>
#include <vector>

#include "operator/cli.h"

namespace {

constexpr const char* kUsage = R"(usage: partop <command> [options]

commands:
  plan   -f FILE [--dsn URI]           print the actions and exact SQL apply would run
  apply  -f FILE [--dsn URI] [-o json] reconcile each policy once
  status -f FILE [--dsn URI] [-o json] report observed state only (read-only)
  run    --policies DIR [--dsn URI]    reconcile every policy in DIR on its schedule
  operator [--kubeconfig FILE] [--namespace NS]... [--leader-elect]
           [--leader-election-namespace NS] [--max-concurrent-reconciles N]
           [--max-connections-per-database N] [--database-check-interval 60s]
           [--metrics-bind-address :8080] [--health-probe-bind-address :8081]
                                       reconcile PartitionPolicy objects from Kubernetes
  version

-f may be given more than once and may name a directory of *.yaml files.
--dsn defaults to $PARTOP_DSN. Exit: 0 all Ready, 1 any not Ready, 2 usage or parse error.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? partop::cli::kExitUsage : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "plan") return partop::cli::run_plan(args);
  if (command == "apply") return partop::cli::run_apply(args);
  if (command == "status") return partop::cli::run_status(args);
  if (command == "run") return partop::cli::run_loop(args);
  if (command == "operator") return partop::cli::run_operator_command(args);
  if (command == "version") {
    std::cout << "partop " << PARTOP_VERSION << "\n";
    return 0;
  }
  std::cerr << "partop: unknown command \"" << command << "\"\n" << kUsage;
  return partop::cli::kExitUsage;
}
