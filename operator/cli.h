// The `partop` command line: plan, apply, status and run over policy files and one database.
#pragma once

#include <string>
#include <vector>

namespace partop::cli {

// Exit codes: 0 every policy Ready, 1 any policy not Ready, 2 usage or parse errors.
inline constexpr int kExitReady = 0;
inline constexpr int kExitNotReady = 1;
inline constexpr int kExitUsage = 2;

int run_plan(const std::vector<std::string>& args);
int run_apply(const std::vector<std::string>& args);
int run_status(const std::vector<std::string>& args);
int run_loop(const std::vector<std::string>& args);
int run_operator_command(const std::vector<std::string>& args);

}  // namespace partop::cli
