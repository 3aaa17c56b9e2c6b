// The `partop` command line, parsed by CLI11: the subcommands plan, apply, status, run, operator
// and version, each answering --help, and `partop --version`. Values may follow a flag as the
// next argument or after "="; a missing or unknown argument, or a value out of range, exits
// kExitUsage (2) with a message naming the flag.
#pragma once

namespace partop::cli {

int run_command_line(int argc, char** argv);

}  // namespace partop::cli
