# Shared helpers for the benchmarks, sourced by bench/NN_*.sh. scripts/bench sets:
#   PARTOP_BIN   the partop binary
#   BENCH_PG     state directory of the benchmark PostgreSQL (tests/postgres.sh layout, DIR/env)
#   BENCH_OUT    directory that collects each case's Markdown fragment (NN.md)
#   BENCH_WORK   scratch directory (pgbench logs, policies)
# A case can be re-run alone with the same variables set (see scripts/bench).
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${PARTOP_BIN:?PARTOP_BIN not set (run through scripts/bench)}"
: "${BENCH_PG:?BENCH_PG not set (run through scripts/bench)}"
: "${BENCH_OUT:?BENCH_OUT not set (run through scripts/bench)}"
: "${BENCH_WORK:?BENCH_WORK not set (run through scripts/bench)}"
# shellcheck disable=SC1091
source "$BENCH_PG/env"
export PGHOST PGPORT PGUSER
export PGDATABASE=postgres
CASE=$(basename "$0" .sh)
CASE_WORK="$BENCH_WORK/$CASE"
mkdir -p "$CASE_WORK" "$BENCH_OUT"
chmod 777 "$CASE_WORK"

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$CASE" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

now_ms() { date +%s%3N; }

# q DB SQL...: one value per line, unaligned, no headers; stops on the first error.
# NOTICEs are silenced for the harness's own sessions only (PGOPTIONS is not exported).
QUIET='-c client_min_messages=warning'
q() { local db=$1; shift; PGOPTIONS=$QUIET psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" "$@"; }
qc() { local db=$1 sql=$2; q "$db" -c "$sql"; }
dsn() { echo "postgresql://postgres@127.0.0.1:$PGPORT/$1"; }

db_create() {  # db_create NAME [TEMPLATE]
  local name=$1 template=${2:-template0}
  PGOPTIONS=$QUIET psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" \
    -c "CREATE DATABASE $name TEMPLATE $template" >/dev/null
}
db_drop() { PGOPTIONS=$QUIET psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true; }
with_partman() { qc "$1" "CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman" >/dev/null; }

# Statistics over numbers on stdin, one per line.
median() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
maximum() { awk 'NR == 1 || $1 > m { m = $1 } END { print (NR ? m : "n/a") }'; }
minimum() { awk 'NR == 1 || $1 < m { m = $1 } END { print (NR ? m : "n/a") }'; }
# ratio A B: A/B with two decimals ("n/a" when either is missing or B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b }'; }
fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "n/a" || v == "") print "n/a"; else printf "%.*f\n", d, v }'; }

# Values recorded per (tool, metric): record TOOL METRIC VALUE, values TOOL METRIC, med TOOL METRIC.
record() { echo "$3" >> "$CASE_WORK/m.$1.$2"; }
values() { if [ -f "$CASE_WORK/m.$1.$2" ]; then cat "$CASE_WORK/m.$1.$2"; fi; }
med() { values "$1" "$2" | median; }
worst() { values "$1" "$2" | maximum; }
all_values() { values "$1" "$2" | paste -sd' ' -; }
reset_records() { rm -f "$CASE_WORK"/m.*; }

# pgbench_stats DIR PREFIX: "LONGEST_MS TRANSACTIONS FAILED" from the per-transaction logs
# (pgbench -l --log-prefix=DIR/PREFIX) and the pgbench output in DIR/PREFIX.out (aborted clients
# and failed transactions count as failed). Log columns (PostgreSQL 15): client_id
# transaction_no time script_no time_epoch time_us [schedule_lag]; time is "failed" or "skipped"
# for transactions that did not run.
pgbench_stats() {
  local dir=$1 prefix=$2 aborted failed_summary
  aborted=$(grep -c 'aborted' "$dir/$prefix.out" 2>/dev/null || true)
  failed_summary=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$dir/$prefix.out" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
  cat "$dir/$prefix".[0-9]* 2>/dev/null | awk -v aborted="${aborted:-0}" -v fs="${failed_summary:-0}" '
    $3 == "failed" { failed++; next }
    $3 == "skipped" { next }
    { n++; if ($3 > max) max = $3 }
    END { f = failed + aborted; if (fs + 0 > f) f = fs + 0; printf "%.0f %d %d\n", max / 1000, n, f }'
}

# gaps DB TABLE: days missing between the lowest and the highest bound of the table's
# (non-DEFAULT) daily partitions.
gaps() {
  qc "$1" "WITH b AS (
      SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)')) AS m
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = '$2'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT')
    SELECT coalesce(round(extract(epoch FROM max(m[2]::timestamptz) - min(m[1]::timestamptz)) / 86400)
                    - count(*), 0)::int FROM b"
}
partition_count() {  # partition_count DB TABLE: partitions other than DEFAULT
  qc "$1" "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = '$2'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'"
}
has_default() {
  qc "$1" "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = '$2'::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'"
}
partition_indexes() {  # valid indexes on the table's partitions (DEFAULT included)
  qc "$1" "SELECT count(*) FROM pg_index x JOIN pg_inherits i ON i.inhrelid = x.indrelid
           WHERE i.inhparent = '$2'::regclass AND x.indisvalid"
}

# Markdown output: out LINE... appends to this case's fragment and echoes to stdout.
OUT_FILE="$BENCH_OUT/$CASE.md"
out() { local line; for line in "$@"; do printf '%s\n' "$line" | tee -a "$OUT_FILE"; done; }
out_reset() { : > "$OUT_FILE"; }

# rss_kb PID / hwm_kb PID / cpu_ticks PID (utime + stime, in clock ticks).
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# pg_cpu_ticks DATADIR: a PostgreSQL server's CPU: the postmaster's own, its children's that it
# has reaped (cutime + cstime: backends that ended), and its live children's.
pg_cpu_ticks() {
  local postmaster child
  postmaster=$(head -1 "$1/postmaster.pid")
  { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$postmaster/stat"
    for child in $(pgrep -P "$postmaster"); do cpu_ticks "$child" 2>/dev/null || true; done
  } | awk '{ s += $1 } END { print s + 0 }'
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ticks_to_s() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }'; }

today_utc() { date -u +%Y-%m-%d; }

# A pgbench client that runs until told to stop, as back-to-back 2-second pgbench runs so that
# every run exits normally and writes its whole per-transaction log (a pgbench killed mid-run
# loses the tail of its log). load_start DIR DB SCRIPT NAME [RATE] / load_stop DIR NAME.
load_start() {
  local dir=$1 db=$2 script=$3 name=$4 rate=${5:-100}
  rm -f "$dir/$name.stop"
  (
    cd "$dir"
    while [ ! -f "$name.stop" ]; do
      PGAPPNAME=$name pgbench -n -c 1 -R "$rate" -T 2 -l --log-prefix="$name" -f "$script" "$db" >> "$name.out" 2>&1 || true
    done
  ) &
  echo $! > "$dir/$name.pid"
}
load_stop() {
  touch "$1/$2.stop"
  wait "$(cat "$1/$2.pid")" 2>/dev/null || true
}
# div A B [DECIMALS]: A/B formatted ("n/a" when B is 0 or missing).
div() { awk -v a="$1" -v b="$2" -v d="${3:-1}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.*f\n", d, a / b }'; }
