#!/usr/bin/env bash
# Builds the policy fuzz target with clang (libFuzzer + AddressSanitizer + UBSan) and runs it for
# a bounded time over the committed corpus. New inputs it finds go to a scratch corpus, not the
# repository. Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
mkdir -p "$build"
binary="$build/policy_fuzz"
sources=(
  "$here/policy_fuzz.cc"
  "$root"/reconcilers/partition/{action,ddl,index_predicate,key_space,layout,lock_mode,plan_checks,planner,policy_parser,spec_fields,sql_text}.cc
  "$root"/reconcilers/document/{duration,envelope,field_reader,yaml_documents}.cc
  "$root"/reconcilers/list/{list_bound,list_planner,observed_list}.cc
)
if [ ! -x "$binary" ] || [ -n "$(find "${sources[@]}" "$root/reconcilers/partition" "$root/reconcilers/document" "$root/reconcilers/list" -newer "$binary" -print -quit)" ]; then
  command -v clang++ >/dev/null || { echo "run.sh: clang++ not found (apt-get install clang)" >&2; exit 1; }
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root" "${sources[@]}" -lyaml-cpp -o "$binary"
fi
scratch="$build/fuzz-corpus"
mkdir -p "$scratch"
# -timeout: one input may take at most 10 s; -rss_limit_mb keeps a runaway input from eating
# the machine. Exit status is non-zero on any crash, leak or sanitizer report.
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$build/" "$scratch" "$here/corpus" 2>&1 | tail -25
