#!/usr/bin/env bash
# Cases 5 and 6 — operator mode against the real kube-apiserver of the e2e fixture
# (e2e/fixture.sh: kube-apiserver 1.20 + etcd, PostgreSQL 15 primary + streaming replica).
#   5. Scale: N PartitionPolicies over D databases (tables empty; each policy: daily, premake 7,
#      DEFAULT, one index) applied at once while `partop operator` runs: time until all are
#      Ready (kubectl wait --all), operator peak RSS (VmHWM), database connections held (max of
#      pg_stat_activity sampled every 0.2 s).
#   6. Footprint: the same operator idle with those N Ready policies: RSS and CPU (utime + stime
#      from /proc/PID/stat) over IDLE seconds.
# pg_partman has no operator mode; these cases measure partop alone.
#   10. The same at 10,000 policies over 100 databases (bench/10_operator_scale_large.sh sources
#      this file with BENCH_SCALE_CASE=10), with its footprint as 10b.
source "$(dirname "$0")/lib.sh"
SCALE_CASE=${BENCH_SCALE_CASE:-5}
if [ "$SCALE_CASE" = 10 ]; then
  N=${BENCH_C10_POLICIES:-10000}
  D=${BENCH_C10_DATABASES:-100}
  READY_LIMIT=3600
  FOOTPRINT=10b
else
  N=${BENCH_C5_POLICIES:-200}
  D=${BENCH_C5_DATABASES:-5}
  READY_LIMIT=900
  FOOTPRINT=6
fi
IDLE=${BENCH_C6_SECONDS:-60}
STATE=${BENCH_E2E_STATE:-/tmp/partop-bench-e2e}
out_reset
reset_records

OPERATOR_PID=
SAMPLER_PID=
PERF_PID=
cleanup() {
  [ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null || true
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  if [ -n "$OPERATOR_PID" ]; then kill -TERM "$OPERATOR_PID" 2>/dev/null || true; wait "$OPERATOR_PID" 2>/dev/null || true; fi
  "$BENCH_ROOT/e2e/fixture.sh" down "$STATE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

t0=$(now_ms)
"$BENCH_ROOT/e2e/fixture.sh" down "$STATE" >/dev/null 2>&1 || true
"$BENCH_ROOT/e2e/fixture.sh" up "$STATE" > "$CASE_WORK/fixture.log" 2>&1 || { tail -20 "$CASE_WORK/fixture.log" >&2; die "e2e fixture did not come up"; }
log "e2e fixture up in $(($(now_ms) - t0)) ms"
# The fixture's own PostgreSQL replaces the benchmark server for this case.
# shellcheck disable=SC1091
source "$STATE/env"
export PGHOST PGPORT PGUSER
k() { kubectl --kubeconfig "$KUBECONFIG" -n "$NS" "$@"; }

NS="bench-scale-$(date +%s)"
kubectl --kubeconfig "$KUBECONFIG" create namespace "$NS" >/dev/null
per_db=$(( (N + D - 1) / D ))
policies="$CASE_WORK/policies.yaml"
: > "$policies"
# database_with_tables DB MADE: creates DB with the empty tables of its policies, t0 .. t(per_db - 1),
# fewer when the MADE policies of the databases before it and these would pass N.
database_with_tables() {
  local i
  db_create "$1"
  for i in $(seq 0 $((per_db - 1))); do
    [ $(($2 + i)) -lt "$N" ] || break
    echo "CREATE TABLE t$i (id bigint NOT NULL, created_at timestamptz NOT NULL, payload text) PARTITION BY RANGE (created_at);"
  done | q "$1" >/dev/null
}
made=0
for d in $(seq 0 $((D - 1))); do
  db=bench_scale_$d
  database_with_tables "$db" "$made"
  k create secret generic "db-$d" --from-literal=uri="$(dsn "$db")" >/dev/null
  for i in $(seq 0 $((per_db - 1))); do
    [ "$made" -lt "$N" ] || break
    cat >> "$policies" <<YAML
---
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata:
  name: db$d-t$i
spec:
  table: public.t$i
  interval: daily
  premake: 7
  defaultPartition: {enabled: true}
  indexes: [{name: t${i}_id_idx, columns: [id]}]
  databaseRef: {secretName: db-$d}
YAML
    made=$((made + 1))
  done
done
log "$made policies over $D databases prepared"

# The policies exist before the operator starts: the clock runs from its start.
t_apply=$(now_ms)
k apply -f "$policies" > "$CASE_WORK/apply.out" 2>&1 || { tail -5 "$CASE_WORK/apply.out" >&2; die "kubectl apply failed"; }
t_applied=$(now_ms)
ready_count() {
  k get ppol -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c True || true
}
# Follows the policies with one watch (a list request every 0.25 s over 1,000 objects cost more
# CPU than the operator). Started before the operator, while none is Ready: kubectl prints the
# initial list as one object, so readiness seen then would be missed.
start_ready_watch() {
  READY_WATCH_LOG="$CASE_WORK/ready.watch"
  # kubectl itself, not the function k: $! must be the watch so that it can be stopped.
  kubectl --kubeconfig "$KUBECONFIG" -n "$NS" get ppol --watch \
    -o jsonpath='{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}' \
    > "$READY_WATCH_LOG" 2>/dev/null &
  READY_WATCHER=$!
  for _ in $(seq 1 50); do [ -s "$READY_WATCH_LOG" ] && break; sleep 0.1; done
}
# Waits until the watch has seen all N Ready or `limit` seconds pass; prints the time it saw them
# all, in ms since `since`.
wait_all_ready() {  # since limit
  local deadline=$((SECONDS + $2)) seen=0
  while [ $SECONDS -lt $deadline ]; do
    seen=$(awk '$2 == "True" { ready[$1] = 1 } $2 != "True" { delete ready[$1] } END { print length(ready) }' "$READY_WATCH_LOG")
    [ "$seen" -ge "$made" ] && break
    sleep 0.25
  done
  kill "$READY_WATCHER" 2>/dev/null || true
  wait "$READY_WATCHER" 2>/dev/null || true
  [ "$seen" -ge "$made" ] || log "WARNING: $seen of $made policies Ready after $2 s"
  echo $(($(now_ms) - $1))
}
start_operator() {  # log file
  metrics_port=$(free_port)
  health_port=$(free_port)
  "$PARTOP_BIN" operator --kubeconfig "$KUBECONFIG" --namespace "$NS" \
    --metrics-bind-address "127.0.0.1:$metrics_port" --health-probe-bind-address "127.0.0.1:$health_port" ${BENCH_C5_OPERATOR_ARGS:-} \
    > "$1" 2>&1 &
  OPERATOR_PID=$!
  for _ in $(seq 1 100); do
    [ "$(curl -s "http://127.0.0.1:$health_port/readyz" 2>/dev/null)" = ok ] && break
    sleep 0.1
  done
  [ "$(curl -s "http://127.0.0.1:$health_port/readyz")" = ok ] || die "operator not ready"
  rss_at_ready=$(rss_kb "$OPERATOR_PID")

  # Connections held by partop in the benchmark databases, sampled every 0.2 s by one psql session
  # (\watch): a psql and a server backend started for each sample took CPU from what is measured.
  echo "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'bench_scale_%' \\watch 0.2" \
    | PGOPTIONS=$QUIET psql -X -q -A -t -d postgres > "$CASE_WORK/connections" 2>/dev/null &
  SAMPLER_PID=$!

  # BENCH_C5_PERF=1: profile the operator with perf while it works through the policies.
  if [ "${BENCH_C5_PERF:-0}" = 1 ] && command -v perf >/dev/null; then
    perf record -F 49 --call-graph dwarf,16384 -p "$OPERATOR_PID" -o "$CASE_WORK/perf.data" > "$CASE_WORK/perf.log" 2>&1 &
    PERF_PID=$!
  fi
}
# Where the machine's CPU goes while the operator works (the case is CPU-bound on 2 cores).
machine_busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
apiserver_pid=$(cat "$STATE/cp/kube-apiserver.pid")
etcd_pid=$(cat "$STATE/cp/etcd.pid")
start_ready_watch
t_start=$(now_ms)
machine0=$(machine_busy_ticks); apiserver0=$(cpu_ticks "$apiserver_pid"); etcd0=$(cpu_ticks "$etcd_pid")
primary0=$(pg_cpu_ticks "$STATE/pg/primary"); standby0=$(pg_cpu_ticks "$STATE/pg/replica")
watch_pid=$READY_WATCHER
start_operator "$CASE_WORK/operator.log"
rss_start=$rss_at_ready
ticks_before=$(cpu_ticks "$OPERATOR_PID")
watch_s=0
# The watch's CPU is read just before wait_all_ready ends it: sampled once a second until then.
# A sample is kept only when it was read whole (the watch may end while it is read).
(while kill -0 "$watch_pid" 2>/dev/null; do
   cpu_ticks "$watch_pid" > "$CASE_WORK/watch.sample" 2>/dev/null && mv "$CASE_WORK/watch.sample" "$CASE_WORK/watch.ticks"
   sleep 1
 done) &
ready_ms=$(wait_all_ready "$t_start" "$READY_LIMIT")
[ -s "$CASE_WORK/watch.ticks" ] && watch_s=$(ticks_to_s "$(cat "$CASE_WORK/watch.ticks")")
primary_s=$(ticks_to_s $(($(pg_cpu_ticks "$STATE/pg/primary") - primary0)))
standby_s=$(ticks_to_s $(($(pg_cpu_ticks "$STATE/pg/replica") - standby0)))
ready=$(ready_count)
ticks_after=$(cpu_ticks "$OPERATOR_PID")
machine_s=$(awk -v t=$(($(machine_busy_ticks) - machine0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')
apiserver_s=$(awk -v t=$(($(cpu_ticks "$apiserver_pid") - apiserver0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')
etcd_s=$(awk -v t=$(($(cpu_ticks "$etcd_pid") - etcd0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')
if [ -n "$PERF_PID" ]; then
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  # Symbols shortened: nlohmann's template arguments make lines thousands of characters long.
  shorten() { sed -e 's/[[:space:]]*$//' -e 's/nlohmann::json_abi_v3_11_2::basic_json<[^ ]*> >/json/g' | cut -c1-160; }
  perf report -i "$CASE_WORK/perf.data" --no-children --stdio -g none -F overhead,dso,sym 2>/dev/null \
    | grep -E '^ +[0-9.]+%' | shorten | head -12 > "$CASE_WORK/perf.top" || true
  perf report -i "$CASE_WORK/perf.data" --children --stdio -g none --sort sym 2>/dev/null \
    | grep -E '^ +[0-9.]+%' | grep -E 'partop::' | shorten | head -15 > "$CASE_WORK/perf.children" || true
fi
hwm=$(hwm_kb "$OPERATOR_PID")
max_conn=$(maximum < "$CASE_WORK/connections")
# partitions_in PREFIX: partitions (DEFAULT included) in the databases PREFIX0 .. PREFIX(D-1).
partitions_in() {
  local d c total=0
  for d in $(seq 0 $((D - 1))); do
    c=$(qc "$1$d" "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relkind = 'r'")
    total=$((total + c))
  done
  echo "$total"
}
partitions=$(partitions_in bench_scale_)
hz=$(getconf CLK_TCK)
log "all Ready: $ready/$made $ready_ms ms after the operator started (kubectl apply took $((t_applied - t_apply)) ms before it); peak RSS ${hwm} kB; max connections $max_conn; partitions $partitions"

# Case 6: idle.
sleep 5
curl -s "http://127.0.0.1:$metrics_port/metrics" > "$CASE_WORK/metrics.before"
idle_ticks0=$(cpu_ticks "$OPERATOR_PID")
idle_t0=$(now_ms)
rss_samples="$CASE_WORK/idle_rss"
: > "$rss_samples"
end=$((SECONDS + IDLE))
while [ $SECONDS -lt $end ]; do rss_kb "$OPERATOR_PID" >> "$rss_samples"; sleep 1; done
idle_ticks1=$(cpu_ticks "$OPERATOR_PID")
idle_t1=$(now_ms)
curl -s "http://127.0.0.1:$metrics_port/metrics" > "$CASE_WORK/metrics.after"
idle_conn=$(q postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'bench_scale_%'")
metric_sum() { awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { print s + 0 }' "$CASE_WORK/metrics.before"; }
reconciles() { awk '/^partop_reconcile_total/ { s += $2 } END { print s + 0 }' "$1"; }
idle_reconciles=$(( $(reconciles "$CASE_WORK/metrics.after") - $(reconciles "$CASE_WORK/metrics.before") ))
total_reconciles=$(reconciles "$CASE_WORK/metrics.after")
idle_cpu_s=$(awk -v t=$((idle_ticks1 - idle_ticks0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
idle_pct=$(awk -v t=$((idle_ticks1 - idle_ticks0)) -v hz="$hz" -v ms=$((idle_t1 - idle_t0)) 'BEGIN { printf "%.2f", 100 * t / hz / (ms / 1000) }')
busy_cpu_s=$(awk -v t=$((ticks_after - ticks_before)) -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }')
log "idle ${IDLE} s: CPU ${idle_cpu_s} s (${idle_pct} %), RSS $(median < "$rss_samples") kB, connections $idle_conn, reconciles $idle_reconciles"

kill -TERM "$OPERATOR_PID"
stop_t0=$(now_ms)
wait "$OPERATOR_PID" || log "WARNING: operator exited $? on SIGTERM"
stop_ms=$(($(now_ms) - stop_t0))
OPERATOR_PID=
kill "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=
errors=$(grep -c '"level":"error"' "$CASE_WORK/operator.log" || true)

# A full resync with nothing changed: the operator started again reconciles every policy once
# (each finds nothing to do). Time until partop_reconcile_total reaches N, and its CPU.
t_restart=$(now_ms)
restart_api0=$(( $(cpu_ticks "$apiserver_pid") + $(cpu_ticks "$etcd_pid") ))
start_operator "$CASE_WORK/operator-restart.log"
restart_ticks0=$(cpu_ticks "$OPERATOR_PID")
deadline=$((SECONDS + READY_LIMIT))
while [ $SECONDS -lt $deadline ]; do
  done_reconciles=$(curl -s "http://127.0.0.1:$metrics_port/metrics" | awk '/^partop_reconcile_total/ { s += $2 } END { print s + 0 }')
  [ "$done_reconciles" -ge "$made" ] && break
  sleep 0.25
done
resync_ms=$(($(now_ms) - t_restart))
resync_cpu_s=$(awk -v t=$(($(cpu_ticks "$OPERATOR_PID") - restart_ticks0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
resync_api_s=$(ticks_to_s $(( $(cpu_ticks "$apiserver_pid") + $(cpu_ticks "$etcd_pid") - restart_api0 )))
resync_ddl=$(grep -c '"actions":\["' "$CASE_WORK/operator-restart.log" || true)
log "resync of $made unchanged policies: $resync_ms ms, CPU $resync_cpu_s s (kube-apiserver + etcd $resync_api_s s), reconciles that applied DDL $resync_ddl"
kill -TERM "$OPERATOR_PID"
wait "$OPERATOR_PID" || true
OPERATOR_PID=
kill "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=

# The floor: the least any tool has to do to bring these policies to Ready on this machine. The
# same partitions and index in plain DDL (one autocommitted statement each, as case 1's floor)
# in fresh databases of the same server with the same empty tables, then one status PATCH per
# policy (a Ready condition) to copies of the policies in a namespace no operator watches. Each
# database is one psql session followed by one curl over one kept-alive connection for its
# policies' statuses; 4 databases at once, as partop's 4 workers.
floor_ns="$NS-floor"
kubectl --kubeconfig "$KUBECONFIG" create namespace "$floor_ns" >/dev/null
kubectl --kubeconfig "$KUBECONFIG" -n "$floor_ns" apply -f "$policies" > "$CASE_WORK/floor-apply.out" 2>&1 \
  || { tail -5 "$CASE_WORK/floor-apply.out" >&2; die "kubectl apply of the floor's policies failed"; }
api_server=$(awk '$1 == "server:" { print $2 }' "$KUBECONFIG")
api_ca=$(awk '$1 == "certificate-authority:" { print $2 }' "$KUBECONFIG")
api_token=$(awk '$1 == "token:" { print $2 }' "$KUBECONFIG")
ready_body="{\"status\":{\"observedGeneration\":1,\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"observedGeneration\":1,\"lastTransitionTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"reason\":\"Reconciled\",\"message\":\"Partitions created by plain SQL.\"}]}}"
bounds=()
for day in $(seq 0 8); do bounds+=("$(date -u -d "$(today_utc) + $day day" +%Y-%m-%d)"); done
made_floor=0
for d in $(seq 0 $((D - 1))); do
  database_with_tables "bench_floor_$d" "$made_floor"
  {
    for i in $(seq 0 $((per_db - 1))); do
      [ "$made_floor" -lt "$N" ] || break
      echo "CREATE INDEX t${i}_id_idx ON t$i (id);"
      echo "CREATE TABLE t${i}_default PARTITION OF t$i DEFAULT;"
      for day in $(seq 0 7); do
        echo "CREATE TABLE t${i}_p${bounds[$day]//-/} PARTITION OF t$i FOR VALUES FROM ('${bounds[$day]} 00:00:00+00') TO ('${bounds[$((day + 1))]} 00:00:00+00');"
      done
      printf 'url = "%s/apis/partop.dev/v1alpha1/namespaces/%s/partitionpolicies/db%s-t%s/status"\noutput = "/dev/null"\n' \
        "$api_server" "$floor_ns" "$d" "$i" >> "$CASE_WORK/floor.$d.curl"
      made_floor=$((made_floor + 1))
    done
  } > "$CASE_WORK/floor.$d.sql"
done
floor_database() {  # d
  q "bench_floor_$1" -f "$CASE_WORK/floor.$1.sql" >/dev/null
  curl -sS --cacert "$api_ca" -H "Authorization: Bearer $api_token" \
    -H 'Content-Type: application/merge-patch+json' -X PATCH -d "$ready_body" \
    -w '%{http_code}\n' -K "$CASE_WORK/floor.$1.curl" > "$CASE_WORK/floor.$1.codes"
}
floor_machine0=$(machine_busy_ticks); floor_api0=$(( $(cpu_ticks "$apiserver_pid") + $(cpu_ticks "$etcd_pid") ))
floor_primary0=$(pg_cpu_ticks "$STATE/pg/primary"); floor_standby0=$(pg_cpu_ticks "$STATE/pg/replica")
floor_t0=$(now_ms)
# Four lanes, each taking every fourth database in turn.
floor_lanes=()
for lane in 0 1 2 3; do
  (for d in $(seq "$lane" 4 $((D - 1))); do floor_database "$d"; done) &
  floor_lanes+=($!)
done
for pid in "${floor_lanes[@]}"; do wait "$pid"; done
floor_ms=$(($(now_ms) - floor_t0))
floor_machine_s=$(ticks_to_s $(($(machine_busy_ticks) - floor_machine0)))
floor_api_s=$(ticks_to_s $(( $(cpu_ticks "$apiserver_pid") + $(cpu_ticks "$etcd_pid") - floor_api0 )))
floor_primary_s=$(ticks_to_s $(($(pg_cpu_ticks "$STATE/pg/primary") - floor_primary0)))
floor_standby_s=$(ticks_to_s $(($(pg_cpu_ticks "$STATE/pg/replica") - floor_standby0)))
floor_ok=$(cat "$CASE_WORK"/floor.*.codes | grep -c '^200$' || true)
[ "$floor_ok" = "$made" ] || log "WARNING: the floor wrote $floor_ok of $made statuses"
floor_partitions=$(partitions_in bench_floor_)
[ "$floor_partitions" = "$partitions" ] || log "WARNING: the floor made $floor_partitions partitions, partop $partitions"
log "floor: $made policies' DDL and statuses in $floor_ms ms (machine CPU $floor_machine_s s)"

out "## $SCALE_CASE. Scale: $made policies over $D databases, operator mode against a real kube-apiserver" ""
out "\`e2e/fixture.sh up\` (kube-apiserver 1.20 + etcd, PostgreSQL 15 primary with a streaming replica)." \
  "$D databases with $per_db empty partitioned tables each; one Secret per database; $made" \
  "PartitionPolicies (daily, premake 7, DEFAULT, one index) applied in one \`kubectl apply\`, then" \
  "\`partop operator --namespace NS\` started with its defaults (--max-concurrent-reconciles 4," \
  "--max-connections-per-database 4); readiness is followed with one watch (\`kubectl get --watch\`). Then" \
  "the operator is started again on the unchanged policies: a full resync where nothing changed." \
  "The floor is the least any tool has to do for the same result: the same partitions and index by" \
  "psql (\`CREATE TABLE … PARTITION OF\`, \`CREATE INDEX\` on the parent) in fresh databases of the" \
  "same server, then one status PATCH (a Ready condition) per policy by curl over one connection," \
  "4 databases at once." \
  "One run (not repeated: the fixture start-up alone takes a while)." ""
out "| metric | value |" "|---|---:|"
out "| policies Ready / applied | $ready / $made |"
out "| time from operator start to all Ready, s | $(div "$ready_ms" 1000) |"
out "| \`kubectl apply\` of the $made objects beforehand, s | $(div $((t_applied - t_apply)) 1000) |"
out "| floor: the same DDL by psql, then one status PATCH per policy, s | $(div "$floor_ms" 1000) |"
out "| **partop / floor** | **$(ratio "$ready_ms" "$floor_ms")** |"
out "| policies Ready per second | $(awk -v n="$ready" -v ms="$ready_ms" 'BEGIN { printf "%.1f", n / (ms / 1000) }') |"
out "| partitions created (incl. DEFAULT) | $partitions |"
out "| operator CPU during that phase, s | $busy_cpu_s |"
out "| whole machine's CPU during that phase, s (of $(awk -v ms="$ready_ms" -v n="$(nproc)" 'BEGIN { printf "%.0f", ms / 1000 * n }') available) | $machine_s |"
out "| of which kube-apiserver / etcd, s | $apiserver_s / $etcd_s |"
out "| of which PostgreSQL primary / its streaming standby, s | $primary_s / $standby_s |"
out "| of which the readiness watch (kubectl get --watch), s | $watch_s |"
out "| of which the rest (machine − the above − operator), s | $(awk -v m="$machine_s" -v a="$apiserver_s" -v e="$etcd_s" -v o="$busy_cpu_s" -v p="$primary_s" -v r="$standby_s" -v w="$watch_s" 'BEGIN { printf "%.1f", m - a - e - o - p - r - w }') |"
out "| the floor's whole-machine CPU, s (of which primary / standby / kube-apiserver + etcd) | $floor_machine_s ($floor_primary_s / $floor_standby_s / $floor_api_s) |"
out "| operator RSS when ready to work, MiB | $(div "$rss_start" 1024) |"
out "| operator peak RSS (VmHWM), MiB | $(div "$hwm" 1024) |"
out "| database connections held, max of samples every 0.2 s | $max_conn |"
out "| reconciles in total (partop_reconcile_total) | $total_reconciles |"
out "| mean reconcile duration (partop_reconcile_duration_seconds), s | $(div "$(metric_sum partop_reconcile_duration_seconds_sum)" "$(metric_sum partop_reconcile_duration_seconds_count)" 2) |"
out "| mean time queued before a worker took it (partop_workqueue_queue_duration_seconds), s | $(div "$(metric_sum partop_workqueue_queue_duration_seconds_sum)" "$(metric_sum partop_workqueue_queue_duration_seconds_count)" 1) |"
out "| error log lines | $errors |"
out "| SIGTERM to exit, ms | $stop_ms |"
out "| restart on the unchanged policies: all $made reconciled (no-ops), s | $(div "$resync_ms" 1000) |"
out "| that resync's operator CPU, s | $resync_cpu_s |"
out "| that resync's kube-apiserver + etcd CPU, s | $resync_api_s |"
out "| reconciles of that resync that ran DDL | $resync_ddl |" ""
if [ -s "$CASE_WORK/perf.top" ]; then
  out "Where the operator's CPU went while it worked through the policies (\`perf record --call-graph dwarf\`, self time):" "" '```'
  out "$(cat "$CASE_WORK/perf.top")" '```' "" "Inclusive time (children) of partop functions:" "" '```'
  out "$(cat "$CASE_WORK/perf.children")" '```' ""
fi
out "## $FOOTPRINT. Footprint: the operator idle with $ready Ready policies" ""
if [ "$ready_ms" -lt 540000 ]; then
  resync_note="the default 10m, so no resync falls in the window"
else
  resync_note="the default 10m, and the first policies became Ready more than 9 minutes before: their resyncs fall in the window, so this is not idle"
fi
out "Measured over $(( (idle_t1 - idle_t0) / 1000 )) s, starting 5 s after the last policy became Ready (resyncInterval is" \
  "$resync_note)." ""
out "| metric | value |" "|---|---:|"
out "| CPU (utime + stime), s | $idle_cpu_s |"
out "| CPU, % of one core | $idle_pct |"
out "| RSS, MiB (median of 1 s samples) | $(div "$(median < "$rss_samples")" 1024) |"
out "| RSS, MiB (max) | $(div "$(maximum < "$rss_samples")" 1024) |"
out "| database connections held while idle | $idle_conn |"
out "| reconciles while idle | $idle_reconciles |" ""
