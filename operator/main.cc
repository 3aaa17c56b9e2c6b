// Entry point: the command line (operator/command_line.h) parses and dispatches.
#include "operator/command_line.h"

int main(int argc, char** argv) {
  return partop::cli::run_command_line(argc, argv);
}
