#!/usr/bin/env bash
# Case 3 — DEFAULT drain: ROWS rows spread evenly over 30 days (35 to 6 days ago) sit in DEFAULT;
# partitions exist for today and 7 days ahead. An inserter (pgbench, rate-limited, rows for
# now() into today's partition) runs throughout. partop apply vs pg_partman partition_data_proc
# vs the floor (per day in psql: BEGIN; CREATE TABLE (LIKE); WITH moved AS (DELETE FROM DEFAULT
# ... RETURNING *) INSERT; ATTACH; COMMIT). Measured: rows/second, longest insert latency, rows
# lost or duplicated (count and checksum of the seeded rows; live rows against the inserter's
# log), rows left in DEFAULT, and days missing between the lowest and highest partition bound.
source "$(dirname "$0")/lib.sh"
REPS=${BENCH_C3_REPS:-3}
ROWS=${BENCH_C3_ROWS:-1000000}
RATE=${BENCH_C3_RATE:-100}
out_reset
reset_records

today=$(today_utc)
start=$(date -u -d "$today - 35 day" +%Y-%m-%d)
SEED="SELECT count(*) || ':' || coalesce(sum(hashtext(id::text || created_at::text)), 0) FROM events WHERE payload = 'seed'"

cat > "$CASE_WORK/policy.yaml" <<'YAML'
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata:
  name: events
spec:
  table: public.events
  interval: daily
  premake: 7
  defaultPartition: {enabled: true, drain: true}
  indexes:
    - {name: events_id_idx, columns: [id]}
YAML
cat > "$CASE_WORK/insert.sql" <<'SQL'
INSERT INTO events (id, created_at, payload) VALUES (nextval('live_id'), now(), 'live');
SQL

load_rows() {
  q "$1" >/dev/null <<SQL
CREATE SEQUENCE live_id START 1000000000;
INSERT INTO events (id, created_at, payload)
  SELECT i, '$start'::timestamptz + (i - 1) * (interval '30 days' / $ROWS), 'seed'
  FROM generate_series(1, $ROWS) i;
VACUUM ANALYZE events;
SQL
}

# Two template databases, built once: the same table, DEFAULT, partitions for today + 7 days and
# the seeded rows; one registered with pg_partman (create_parent), one made with plain DDL.
build_templates() {
  local t0
  t0=$(now_ms)
  db_create bench_c3_tpl_plain
  {
    echo "CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, payload text) PARTITION BY RANGE (created_at);"
    echo "CREATE INDEX events_id_idx ON events (id);"
    echo "CREATE TABLE events_default PARTITION OF events DEFAULT;"
    local i from to
    for i in $(seq 0 7); do
      from=$(date -u -d "$today + $i day" +%Y-%m-%d)
      to=$(date -u -d "$today + $((i + 1)) day" +%Y-%m-%d)
      echo "CREATE TABLE events_p${from//-/} PARTITION OF events FOR VALUES FROM ('$from 00:00:00+00') TO ('$to 00:00:00+00');"
    done
  } | q bench_c3_tpl_plain >/dev/null
  load_rows bench_c3_tpl_plain
  db_create bench_c3_tpl_partman
  with_partman bench_c3_tpl_partman
  q bench_c3_tpl_partman >/dev/null <<SQL
CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, payload text) PARTITION BY RANGE (created_at);
CREATE INDEX events_id_idx ON events (id);
SELECT partman.create_parent('public.events', 'created_at', 'native', 'daily',
  p_premake := 7, p_start_partition := '$today');
SQL
  load_rows bench_c3_tpl_partman
  local tpl
  for tpl in plain partman; do
    [ "$(qc bench_c3_tpl_$tpl "SELECT count(*) FROM ONLY events_default")" = "$ROWS" ] \
      || die "template $tpl: the seeded rows are not all in DEFAULT"
  done
  log "templates built in $(($(now_ms) - t0)) ms"
}

drain_partop() {
  local db=$1 rc=0 attempts=1
  "$PARTOP_BIN" apply -f "$CASE_WORK/policy.yaml" --dsn "$(dsn "$db")" > "$CASE_WORK/partop.out" 2>&1 || rc=$?
  while [ $rc != 0 ] && [ $attempts -lt 30 ]; do  # a guard outcome: retry as a scheduler would
    sleep 1
    attempts=$((attempts + 1))
    rc=0
    "$PARTOP_BIN" apply -f "$CASE_WORK/policy.yaml" --dsn "$(dsn "$db")" >> "$CASE_WORK/partop.out" 2>&1 || rc=$?
  done
  [ $rc = 0 ] || { log "partop apply not Ready after $attempts attempts"; grep -m3 'Ready=' "$CASE_WORK/partop.out" >&2; }
  [ $attempts = 1 ] || log "partop needed $attempts applies"
}
drain_partman() {
  q "$1" -c "CALL partman.partition_data_proc('public.events', p_wait := 0, p_quiet := true)" \
    > "$CASE_WORK/partman.out" 2>&1 || { log "partition_data_proc failed"; cat "$CASE_WORK/partman.out" >&2; }
}
drain_floor() {
  q "$1" -c "SELECT format('BEGIN;
CREATE TABLE %1\$I (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
WITH moved AS (DELETE FROM events_default WHERE created_at >= %2\$L AND created_at < %3\$L RETURNING *)
  INSERT INTO %1\$I SELECT * FROM moved;
ALTER TABLE events ATTACH PARTITION %1\$I FOR VALUES FROM (%2\$L) TO (%3\$L);
COMMIT;', 'events_p' || to_char(d, 'YYYYMMDD'), d, d + interval '1 day')
    FROM (SELECT DISTINCT date_trunc('day', created_at) AS d FROM events_default) days ORDER BY d" \
    | q "$1" > "$CASE_WORK/floor.out" 2>&1 || { log "floor script failed"; cat "$CASE_WORK/floor.out" >&2; }
}

run_once() {  # run_once TOOL REP
  local tool=$1 rep=$2 db=bench_c3_$1 dir template=bench_c3_tpl_plain
  [ "$tool" = partman ] && template=bench_c3_tpl_partman
  dir="$CASE_WORK/$tool-$rep"
  rm -rf "$dir" && mkdir -p "$dir" && chmod 777 "$dir"
  db_create "$db" "$template"
  local before t0 t1
  before=$(qc "$db" "$SEED")
  load_start "$dir" "$db" "$CASE_WORK/insert.sql" inserter "$RATE"
  sleep 1
  t0=$(now_ms)
  "drain_$tool" "$db"
  t1=$(now_ms)
  sleep 1
  load_stop "$dir" inserter
  local after left live live_distinct logged ins_max ins_n ins_f gap parts ms
  after=$(qc "$db" "$SEED")
  left=$(qc "$db" "SELECT count(*) FROM ONLY events_default")
  read -r live live_distinct <<<"$(qc "$db" "SELECT count(*), count(DISTINCT id) FROM events WHERE payload = 'live'" | tr '|' ' ')"
  read -r ins_max ins_n ins_f <<<"$(pgbench_stats "$dir" inserter)"
  gap=$(gaps "$db" events)
  parts=$(partition_count "$db" events)
  ms=$((t1 - t0))
  local seed_ok=yes
  [ "$before" = "$after" ] || seed_ok="NO ($before -> $after)"
  record "$tool" ms "$ms"
  record "$tool" rps "$(awk -v r="$ROWS" -v ms="$ms" 'BEGIN { printf "%.0f", r / (ms / 1000) }')"
  record "$tool" ins_max "$ins_max"
  record "$tool" failed "$ins_f"
  record "$tool" seed_ok "$seed_ok"
  record "$tool" live_diff "$((live - ins_n)),$((live - live_distinct))"
  record "$tool" left "$left"
  record "$tool" gaps "$gap"
  record "$tool" parts "$parts"
  log "rep $rep $tool: ${ms} ms, longest insert ${ins_max} ms, failed $ins_f, seed unchanged: $seed_ok, live rows $live (logged $ins_n, distinct $live_distinct), left in DEFAULT $left, partitions $parts, gaps $gap"
  db_drop "$db"
}

build_templates
for rep in $(seq 1 "$REPS"); do
  for tool in partop partman floor; do run_once "$tool" "$rep"; done
done
db_drop bench_c3_tpl_plain
db_drop bench_c3_tpl_partman

p=$(med partop ms) m=$(med partman ms) f=$(med floor ms)
out "## 3. DEFAULT drain: $ROWS rows over 30 days in DEFAULT, inserter running" ""
out "$REPS repetitions per tool, interleaved, each on a fresh copy of a template database: table" \
  "\`events (id bigint, created_at timestamptz, payload text)\` with an index on \`id\`, partitions for" \
  "today and 7 days ahead, DEFAULT holding $ROWS rows spread evenly from 35 to 5 days ago (so the 5" \
  "days just before today have no rows and no partition). An inserter (pgbench, $RATE tx/s, rows for" \
  "now() into today's partition, ids from a sequence) runs from 1 s before to 1 s after the drain." \
  "partop: \`apply\` (premake 7, drain on, the index declared). pg_partman:" \
  "\`CALL partman.partition_data_proc('public.events', p_wait := 0)\` (the default \`p_wait\` of 1 s" \
  "would add a 1 s sleep after each of the 30 batches). Floor: one transaction per day with rows," \
  "\`CREATE TABLE (LIKE events …)\`, \`WITH moved AS (DELETE FROM events_default … RETURNING *) INSERT\`," \
  "\`ATTACH PARTITION\`." ""
out "| | partop | pg_partman | floor | partop / pg_partman | partop / floor |" "|---|---:|---:|---:|---:|---:|"
row3() {  # row3 LABEL METRIC
  out "| $1 | $(med partop "$2") ($(all_values partop "$2")) | $(med partman "$2") ($(all_values partman "$2")) | $(med floor "$2") ($(all_values floor "$2")) | $(ratio "$(med partop "$2")" "$(med partman "$2")") | $(ratio "$(med partop "$2")" "$(med floor "$2")") |"
}
row3 "wall-clock ms (median; runs)" ms
row3 "rows/second (median; runs)" rps
row3 "longest insert, ms (median; runs)" ins_max
out "| worst insert over all runs, ms | $(worst partop ins_max) | $(worst partman ins_max) | $(worst floor ins_max) | | |"
row3 "failed inserts" failed
out "| seeded rows: count and checksum unchanged | $(all_values partop seed_ok) | $(all_values partman seed_ok) | $(all_values floor seed_ok) | | |"
out "| live rows: (in table − logged by pgbench),(duplicates) | $(all_values partop live_diff) | $(all_values partman live_diff) | $(all_values floor live_diff) | | |"
row3 "rows left in DEFAULT" left
row3 "partitions afterwards (excl. DEFAULT)" parts
row3 "days missing between lowest and highest bound" gaps
out "" "**partop / pg_partman wall-clock = $(ratio "$p" "$m")**, partop / floor = $(ratio "$p" "$f"), pg_partman / floor = $(ratio "$m" "$f")." ""
out "partop also creates the partitions for the 5 empty days between the drained range and today" \
  "(it fills every missing cell between the oldest and newest partition); pg_partman and the floor" \
  "create partitions only for days that have rows, which leaves that gap. Those 5 extra partitions" \
  "are included in partop's time." ""
