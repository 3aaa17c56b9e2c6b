#!/usr/bin/env bash
# Case 4 — steady state: a reconcile that has nothing to do, on a table with 1,000 daily
# partitions (500 back, today, 499 ahead) + DEFAULT + one index, registered with pg_partman and
# declared by a partop policy (the same table for both). Counted: client round trips (server
# log with log_statement = all for this database), statements executed including those nested
# in PL/pgSQL (pg_stat_statements, track = all), and wall-clock milliseconds.
source "$(dirname "$0")/lib.sh"
REPS=${BENCH_C4_REPS:-10}
PARTS=${BENCH_C4_PARTITIONS:-1000}
DB=bench_c4
out_reset
reset_records

today=$(today_utc)
back=$((PARTS / 2))
ahead=$((PARTS - back - 1))
first=$(date -u -d "$today - $back day" +%Y-%m-%d)
SERVER_LOG="$BENCH_PG/primary.log"

cat > "$CASE_WORK/policy.yaml" <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata:
  name: t
spec:
  table: public.t
  interval: daily
  premake: $ahead
  defaultPartition: {enabled: true, drain: true}
  indexes:
    - {name: t_id_idx, columns: [id]}
YAML

pgss_ok=$(qc postgres "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'" 2>/dev/null || echo 0)
[ "$pgss_ok" = 1 ] || qc postgres "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1 || true
pgss_ok=$(qc postgres "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'" 2>/dev/null || echo 0)
track=$(qc postgres "SHOW pg_stat_statements.track" 2>/dev/null || echo none)

db_create "$DB"
with_partman "$DB"
t0=$(now_ms)
q "$DB" >/dev/null <<SQL
CREATE TABLE t (id bigint NOT NULL, created_at timestamptz NOT NULL, payload text) PARTITION BY RANGE (created_at);
CREATE INDEX t_id_idx ON t (id);
SELECT partman.create_parent('public.t', 'created_at', 'native', 'daily',
  p_premake := $ahead, p_start_partition := '$first');
SQL
log "pg_partman created $(partition_count "$DB" t) partitions in $(($(now_ms) - t0)) ms"
[ "$(partition_count "$DB" t)" = "$PARTS" ] || die "expected $PARTS partitions"
# Settle both tools once (neither should find anything to do), then turn statement logging on.
"$PARTOP_BIN" apply -f "$CASE_WORK/policy.yaml" --dsn "$(dsn "$DB")" > "$CASE_WORK/settle.out" 2>&1 \
  || { cat "$CASE_WORK/settle.out" >&2; die "partop apply is not Ready on the pg_partman table"; }
grep -q 'applied:' "$CASE_WORK/settle.out" && log "note: partop's settling apply changed something: $(grep -m1 'applied:' "$CASE_WORK/settle.out")"
qc "$DB" "SELECT partman.run_maintenance('public.t')" >/dev/null
[ "$(partition_count "$DB" t)" = "$PARTS" ] || die "settling changed the partition count"
qc postgres "ALTER DATABASE $DB SET log_statement = 'all'" >/dev/null
# Session time (connection to disconnection, as the server logs it): the reconcile without the
# client's process start. log_disconnections cannot be set per database; it is on for this case.
qc postgres "ALTER SYSTEM SET log_disconnections = on" >/dev/null
qc postgres "SELECT pg_reload_conf()" >/dev/null
dbid=$(qc postgres "SELECT oid FROM pg_database WHERE datname = '$DB'")
# Statements this database's clients sent since byte OFFSET of the server log (simple or
# extended protocol), the statistics resets left out.
statements_since() {
  tail -c +"$(($1 + 1))" "$SERVER_LOG" | grep -E "db=$DB .*LOG:  (statement|execute [^ ]*):" | grep -vc 'pg_stat_statements' || true
}
# Server execution time of this database's top-level statements since the last reset, ms.
top_level_server_ms() {
  qc postgres "SELECT round(coalesce(sum(total_exec_time) FILTER (WHERE toplevel), 0)::numeric, 1)
    FROM pg_stat_statements WHERE dbid = $dbid AND query NOT LIKE '%pg_stat_statements%'"
}

run_tool() {  # run_tool TOOL: prints elapsed ms
  local t0 t1
  t0=$(now_ms)
  if [ "$1" = partop ]; then
    "$PARTOP_BIN" apply -f "$CASE_WORK/policy.yaml" --dsn "$(dsn "$DB")" > "$CASE_WORK/partop.out" 2>&1 \
      || { cat "$CASE_WORK/partop.out" >&2; die "partop apply not Ready"; }
  elif [ "$1" = partman ]; then
    PGAPPNAME=pg_partman psql -X -q -A -t -d "$DB" -c "SELECT partman.run_maintenance('public.t')" >/dev/null
  else
    PGAPPNAME=baseline psql -X -q -A -t -d "$DB" -c "SELECT 1" >/dev/null
  fi
  t1=$(now_ms)
  echo $((t1 - t0))
}

for rep in $(seq 1 "$REPS"); do
  for tool in partop partman baseline; do
    [ "$pgss_ok" = 1 ] && qc postgres "SELECT pg_stat_statements_reset(0, $dbid, 0)" >/dev/null
    offset=$(stat -c %s "$SERVER_LOG")
    ms=$(run_tool $tool)
    sleep 0.2  # let the server write its log
    # Round trips: log lines of this database that start a statement (simple or extended protocol).
    trips=$(statements_since "$offset")
    session_ms=$(tail -c +"$((offset + 1))" "$SERVER_LOG" \
      | sed -n "s/.*disconnection: session time: \([0-9]*\):\([0-9]*\):\([0-9.]*\) .*database=$DB .*/\1 \2 \3/p" \
      | awk '{ printf "%.0f", ($1 * 3600 + $2 * 60 + $3) * 1000; exit }')
    record $tool ms "$ms"
    record $tool trips "$trips"
    record $tool session_ms "${session_ms:-0}"
    if [ "$pgss_ok" = 1 ]; then
      read -r top nested server_ms <<<"$(qc postgres "SELECT coalesce(sum(calls) FILTER (WHERE toplevel), 0),
          coalesce(sum(calls) FILTER (WHERE NOT toplevel), 0),
          round(coalesce(sum(total_exec_time) FILTER (WHERE toplevel), 0)::numeric, 1)
        FROM pg_stat_statements WHERE dbid = $dbid AND query NOT LIKE '%pg_stat_statements_reset%'" | tr '|' ' ')"
      record $tool top "$top"
      record $tool nested "$nested"
      record $tool total "$((top + nested))"
      record $tool server_ms "$server_ms"
      if [ "$rep" = "$REPS" ] && [ $tool != baseline ]; then  # the costliest statements of the last run
        qc postgres "SELECT calls, round(total_exec_time::numeric, 1), CASE WHEN toplevel THEN 'top' ELSE 'nested' END,
            replace(left(regexp_replace(query, '\s+', ' ', 'g'), 90), '|', '/')
          FROM pg_stat_statements WHERE dbid = $dbid AND query NOT LIKE '%pg_stat_statements_reset%'
          ORDER BY total_exec_time DESC LIMIT 5" > "$CASE_WORK/top.$tool"
      fi
    fi
    log "rep $rep $tool: $ms ms, $trips round trips, statements top-level ${top:-?} nested ${nested:-?}, server ${server_ms:-?} ms"
  done
done

# Warm: the operator's own conditions. `partop run` is the operator's runtime (controller, queue,
# a pooled session kept open between reconciles) with the policy re-read every second; its
# /metrics gives the reconcile durations. pg_partman is called REPS times in one psql session.
# The first reconcile (connection set-up, cold caches) is left out of both.
mkdir -p "$CASE_WORK/run"
sed 's/^  table: public.t$/  table: public.t\n  schedule: {resyncInterval: 1s}/' "$CASE_WORK/policy.yaml" > "$CASE_WORK/run/t.yaml"
metrics_port=$(free_port)
"$PARTOP_BIN" run --policies "$CASE_WORK/run" --dsn "$(dsn "$DB")" \
  --metrics-bind-address "127.0.0.1:$metrics_port" > "$CASE_WORK/run.log" 2>&1 &
run_pid=$!
scrape() {  # scrape: "<sum seconds> <count>" of partop_reconcile_duration_seconds
  curl -fsS "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null \
    | awk '/^partop_reconcile_duration_seconds_sum/ { s = $2 } /^partop_reconcile_duration_seconds_count/ { c = $2 }
           END { print (s == "" ? 0 : s), (c == "" ? 0 : c) }'
}
wait_reconciles() {  # wait_reconciles N: until N reconciles are done (60 s at most)
  local deadline=$(($(date +%s) + 60))
  until [ "$(scrape | cut -d' ' -f2)" -ge "$1" ] 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { cat "$CASE_WORK/run.log" >&2; die "partop run did not reach $1 reconciles"; }
    kill -0 "$run_pid" 2>/dev/null || { cat "$CASE_WORK/run.log" >&2; die "partop run exited"; }
    sleep 0.1
  done
}
wait_reconciles 1
[ "$pgss_ok" = 1 ] && qc postgres "SELECT pg_stat_statements_reset(0, $dbid, 0)" >/dev/null
offset=$(stat -c %s "$SERVER_LOG")
read -r sum0 count0 <<<"$(scrape)"
wait_reconciles $((count0 + REPS))
read -r sum1 count1 <<<"$(scrape)"
kill "$run_pid"; wait "$run_pid" 2>/dev/null || true
sleep 0.2
grep -q '"ready":false' "$CASE_WORK/run.log" && die "partop run reported a policy not Ready"
warm_n=$((count1 - count0))
warm_ms=$(awk -v a="$sum0" -v b="$sum1" -v n="$warm_n" 'BEGIN { printf "%.1f", (b - a) * 1000 / n }')
warm_trips=$(statements_since "$offset")
warm_server=n/a
[ "$pgss_ok" = 1 ] && warm_server=$(top_level_server_ms)
# After the first call, psql's \! resets the statistics and notes where the server log stands.
reset_sql=$([ "$pgss_ok" = 1 ] && echo "SELECT pg_stat_statements_reset(0, $dbid, 0)" || echo "SELECT 1")
{ echo "SELECT partman.run_maintenance('public.t');"
  echo "\\! psql -X -q -d postgres -c \"$reset_sql\" >/dev/null; stat -c %s '$SERVER_LOG' > '$CASE_WORK/partman.offset'"
  printf '%s\n' '\timing on'
  for _ in $(seq "$REPS"); do echo "SELECT partman.run_maintenance('public.t');"; done; } \
  | PGAPPNAME=pg_partman psql -X -q -A -t -d "$DB" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' > "$CASE_WORK/partman.warm"
sleep 0.2
partman_warm_ms=$(median < "$CASE_WORK/partman.warm")
partman_warm_trips=$(statements_since "$(cat "$CASE_WORK/partman.offset")")
partman_warm_server=n/a
[ "$pgss_ok" = 1 ] && partman_warm_server=$(top_level_server_ms)
log "warm: partop run $warm_ms ms per reconcile over $warm_n ($warm_trips round trips), pg_partman $partman_warm_ms ms"
[ "$(partition_count "$DB" t)" = "$PARTS" ] || log "WARNING: the partition count changed"
qc postgres "ALTER DATABASE $DB RESET log_statement" >/dev/null
qc postgres "ALTER SYSTEM RESET log_disconnections" >/dev/null
qc postgres "SELECT pg_reload_conf()" >/dev/null
db_drop "$DB"

out "## 4. Steady state: a no-op reconcile of a table with $PARTS partitions" ""
out "One table, \`t\`, $PARTS daily partitions ($back back, today, $ahead ahead) + DEFAULT + an index," \
  "created by pg_partman \`create_parent\` and declared by a partop policy (premake $ahead, DEFAULT," \
  "the index); both tools were run once to settle and then found nothing to do ($REPS runs each," \
  "interleaved; the partition count is checked unchanged). Round trips: statements the client sent," \
  "from the server log with \`log_statement = all\` for this database. Statements executed: sum of" \
  "\`calls\` in pg_stat_statements (\`track = $track\`), top-level plus nested in PL/pgSQL." \
  "Session time: from the connection to its end as the server logs it (\`log_disconnections\`):" \
  "the reconcile with its connection set-up and the client's own work between statements, without" \
  "process start. Wall-clock: the whole client command (partop process, or \`psql -c\`), so it" \
  "includes process start; \`psql -c 'SELECT 1'\` is shown as the floor of both." ""
out "| | partop apply | pg_partman run_maintenance('public.t') | psql -c 'SELECT 1' | partop / pg_partman |" "|---|---:|---:|---:|---:|"
row4() { out "| $1 | $(med partop "$2") | $(med partman "$2") | $(med baseline "$2") | $(ratio "$(med partop "$2")" "$(med partman "$2")") |"; }
row4 "client round trips (median)" trips
if [ "$pgss_ok" = 1 ]; then
  row4 "statements executed, top-level" top
  row4 "statements executed, nested in functions" nested
  row4 "statements executed, total" total
  row4 "server execution time of top-level statements, ms (median)" server_ms
fi
row4 "session time ms, connection to disconnection as the server logs it (median)" session_ms
row4 "wall-clock ms (median)" ms
out "| wall-clock ms, all runs | $(all_values partop ms) | $(all_values partman ms) | $(all_values baseline ms) | |" ""
out "### Warm: the operator's runtime against pg_partman in one session" ""
out "\`partop run\` (the operator's controller and session pool, the policy resynced every second) for" \
  "$warm_n reconciles after its first, beside \`run_maintenance\` called $REPS times in one psql session" \
  "after a first call. partop's duration is its own histogram (\`partop_reconcile_duration_seconds\`:" \
  "reading the catalog, planning, and the outcome; the mean, as the histogram keeps no median);" \
  "pg_partman's is psql's \`\\timing\` of each call (the median). Server time and round trips are" \
  "totals over those reconciles, divided by their number." ""
out "| | partop run | pg_partman, one session | partop / pg_partman |" "|---|---:|---:|---:|"
per() { awk -v a="$1" -v n="$2" 'BEGIN { if (a == "n/a" || n + 0 == 0) print "n/a"; else printf "%.1f\n", a / n }'; }
out "| reconcile, ms | $warm_ms | $partman_warm_ms | $(ratio "$warm_ms" "$partman_warm_ms") |"
out "| client round trips per reconcile | $(per "$warm_trips" "$warm_n") | $(per "$partman_warm_trips" "$REPS") | $(ratio "$(per "$warm_trips" "$warm_n")" "$(per "$partman_warm_trips" "$REPS")") |"
out "| server execution time per reconcile, ms | $(per "$warm_server" "$warm_n") | $(per "$partman_warm_server" "$REPS") | $(ratio "$(per "$warm_server" "$warm_n")" "$(per "$partman_warm_server" "$REPS")") |" ""
if [ "$pgss_ok" = 1 ]; then
  out "The costliest statements of each tool's last run (pg_stat_statements):" ""
  out "| tool | calls | total ms | level | statement (first 90 characters) |" "|---|---:|---:|---|---|"
  for tool in partop partman; do
    while IFS='|' read -r calls total level stmt; do
      out "| $tool | $calls | $total | $level | \`$stmt\` |"
    done < "$CASE_WORK/top.$tool"
  done
  out ""
fi
