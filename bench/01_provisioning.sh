#!/usr/bin/env bash
# Case 1 — provisioning: 365 daily partitions (today and 364 ahead), a DEFAULT partition and two
# indexes, on an empty table. partop apply vs pg_partman create_parent vs a plain psql script of
# CREATE TABLE ... PARTITION OF (the floor). Wall-clock of the whole client command (process
# start, connection, DDL), on a fresh database per repetition.
source "$(dirname "$0")/lib.sh"
REPS=${BENCH_C1_REPS:-5}
out_reset
reset_records

TABLE_DDL="CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, payload text)
  PARTITION BY RANGE (created_at)"

cat > "$CASE_WORK/policy.yaml" <<'YAML'
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata:
  name: events
spec:
  table: public.events
  interval: daily
  premake: 364
  defaultPartition: {enabled: true}
  indexes:
    - {name: events_id_idx, columns: [id]}
    - {name: events_created_at_idx, columns: [created_at]}
YAML

# The floor: the same partitions with plain DDL, one autocommitted statement each.
floor_script() {
  echo "CREATE INDEX events_id_idx ON events (id);"
  echo "CREATE INDEX events_created_at_idx ON events (created_at);"
  echo "CREATE TABLE events_default PARTITION OF events DEFAULT;"
  local i
  for i in $(seq 0 364); do
    local from to name
    from=$(date -u -d "$(today_utc) + $i day" +%Y-%m-%d)
    to=$(date -u -d "$(today_utc) + $((i + 1)) day" +%Y-%m-%d)
    name=events_p${from//-/}
    echo "CREATE TABLE $name PARTITION OF events FOR VALUES FROM ('$from 00:00:00+00') TO ('$to 00:00:00+00');"
  done
}
floor_script > "$CASE_WORK/floor.sql"

check() {  # check TOOL DB: the result must be the same for every tool
  local parts def idx
  parts=$(partition_count "$2" events)
  def=$(has_default "$2" events)
  idx=$(partition_indexes "$2" events)
  record "$1" partitions "$parts"
  record "$1" indexes "$idx"
  [ "$parts" = 365 ] && [ "$def" = 1 ] && [ "$idx" = 732 ] \
    || log "WARNING: $1 left $parts partitions, $def DEFAULT, $idx valid partition indexes (want 365, 1, 732)"
}

run_partop() {
  local db=$1 t0 t1 rc=0
  t0=$(now_ms)
  "$PARTOP_BIN" apply -f "$CASE_WORK/policy.yaml" --dsn "$(dsn "$db")" > "$CASE_WORK/partop.out" 2>&1 || rc=$?
  t1=$(now_ms)
  [ $rc = 0 ] || { log "partop apply exited $rc"; tail -5 "$CASE_WORK/partop.out" >&2; }
  echo $((t1 - t0))
}
run_partman() {
  local db=$1 t0 t1
  with_partman "$db"
  t0=$(now_ms)
  q "$db" >/dev/null <<SQL
CREATE INDEX events_id_idx ON events (id);
CREATE INDEX events_created_at_idx ON events (created_at);
SELECT partman.create_parent('public.events', 'created_at', 'native', 'daily',
  p_premake := 364, p_start_partition := '$(today_utc)');
SQL
  t1=$(now_ms)
  echo $((t1 - t0))
}
run_floor() {
  local db=$1 t0 t1
  t0=$(now_ms)
  q "$db" -f "$CASE_WORK/floor.sql" >/dev/null
  t1=$(now_ms)
  echo $((t1 - t0))
}

for rep in $(seq 1 "$REPS"); do
  for tool in partop partman floor; do
    db=bench_c1_$tool
    db_create "$db"
    qc "$db" "$TABLE_DDL"
    ms=$("run_$tool" "$db")
    record $tool ms "$ms"
    check $tool "$db"
    log "rep $rep $tool: ${ms} ms"
    db_drop "$db"
  done
done

p=$(med partop ms) m=$(med partman ms) f=$(med floor ms)
out "## 1. Provisioning: 365 daily partitions + DEFAULT + 2 indexes on an empty table" ""
out "$REPS repetitions per tool, interleaved, each on a fresh database. Wall-clock of the whole client" \
  "command (process start, connection, all DDL). Every run ends with 365 partitions + DEFAULT and" \
  "2 valid indexes on each of the 366 (checked)." ""
out "| tool | median ms | min | max | runs (ms) | vs floor |" "|---|---:|---:|---:|---|---:|"
for tool in partop partman floor; do
  label=$tool
  [ $tool = partman ] && label="pg_partman create_parent (premake 364 from today)"
  [ $tool = partop ] && label="partop apply (premake 364)"
  [ $tool = floor ] && label="floor: psql, 365 × CREATE TABLE … PARTITION OF"
  out "| $label | $(med $tool ms) | $(values $tool ms | minimum) | $(worst $tool ms) | $(all_values $tool ms) | $(ratio "$(med $tool ms)" "$f") |"
done
out "" "**partop / pg_partman = $(ratio "$p" "$m")**, partop / floor = $(ratio "$p" "$f"), pg_partman / floor = $(ratio "$m" "$f")." ""
out "pg_partman's \`premake\` counts partitions ahead of the start partition: \`create_parent(p_premake := 365)\`" \
  "without \`p_start_partition\` creates 365 behind *and* 365 ahead (731 + DEFAULT), so the equal" \
  "workload is \`p_premake := 364, p_start_partition := today\` (365 + DEFAULT)." ""
