// The `partop` commands: plan, apply, status and run over policy files and one database, and the
// operator; command_line.h parses their arguments.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "operator/manager.h"

namespace partop::cli {

// Exit codes: 0 every policy Ready, 1 any policy not Ready, 2 usage or parse errors.
inline constexpr int kExitReady = 0;
inline constexpr int kExitNotReady = 1;
inline constexpr int kExitUsage = 2;

// What plan, apply, status (files) and run (policies_dir) work on; parsed by command_line.h.
struct CommandOptions {
  std::vector<std::string> files;          // -f: files or directories
  std::string policies_dir;                // run --policies
  std::string dsn;                         // --dsn or PARTOP_DSN; never empty when a command runs
  std::string output = "text";             // -o: text or json
  std::string metrics_bind_address = "0";  // run --metrics-bind-address; "0": none
  // apply --retry-for: how long policies held back by a guard are retried (the operator's guard
  // backoff), so that apply finishes soon after a blocker ends without queuing behind it.
  std::chrono::milliseconds retry_for{0};
};

int run_plan(const CommandOptions& options);
int run_apply(const CommandOptions& options);
int run_status(const CommandOptions& options);
int run_loop(const CommandOptions& options);
// Runs the operator until SIGTERM or SIGINT.
int run_operator_command(const OperatorOptions& options);

}  // namespace partop::cli
