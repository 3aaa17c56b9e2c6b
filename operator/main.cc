// Entry point: the command line (operator/command_line.h) parses and dispatches.
#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "operator/command_line.h"

namespace {

// glibc gives threads that allocate at the same time arenas of their own, up to eight per core,
// and memory freed in one arena serves only that arena: the operator's workers, informers and
// background writers kept about 15 MiB of idle arenas at 1,000 policies (bench case 6: 67 MiB
// idle with the default, 50 MiB with two arenas, at no measured CPU cost). MALLOC_ARENA_MAX, when
// set, still decides.
void limit_malloc_arenas() {
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  limit_malloc_arenas();
  return partop::cli::run_command_line(argc, argv);
}
