#!/usr/bin/env bash
# Case 2 — write stall. An inserter and an id-lookup reader (pgbench, rate-limited, per-
# transaction logs) run while a report query holds ACCESS SHARE on the parent for 10 s, and
# maintenance must both create a partition (tomorrow's is missing) and drop an expired one
# (100 days old, retention 30 days). partop (lockTimeout 2s) vs pg_partman
# run_maintenance('public.events') (retention and premake in part_config). Measured: longest
# insert and read latency, failed statements, and how long after the report query ended each tool
# had finished its work. partop runs twice: `apply --retry-for 60s` (one call, retrying what a
# guard held back after the operator's guard backoff), and `partop run` (the operator's
# controller, queue and guard backoff, reading the policy from a directory instead of
# Kubernetes), done at the log timestamp of its first Ready outcome.
# A second, shorter variant ("create only") has no expired partition and no retention, to show
# the stall of partition creation alone (ATTACH takes ACCESS EXCLUSIVE on DEFAULT).
source "$(dirname "$0")/lib.sh"
REPS=${BENCH_C2_REPS:-3}
CREATE_REPS=${BENCH_C2_CREATE_REPS:-2}
RATE=${BENCH_C2_RATE:-100}      # transactions per second for each pgbench client
DURATION=${BENCH_C2_SECONDS:-24}
out_reset
reset_records

today=$(today_utc)
tomorrow=$(date -u -d "$today + 1 day" +%Y-%m-%d)
expired=$(date -u -d "$today - 100 day" +%Y-%m-%d)
expired_end=$(date -u -d "$today - 99 day" +%Y-%m-%d)

cat > "$CASE_WORK/policy.yaml" <<'YAML'
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata:
  name: events
spec:
  table: public.events
  interval: daily
  premake: 1
  defaultPartition: {enabled: true}
  retention: {keep: 30 days, action: drop}
  guards: {lockTimeout: 2s}
YAML
grep -v '^  retention:' "$CASE_WORK/policy.yaml" > "$CASE_WORK/policy-create.yaml"
cat > "$CASE_WORK/insert.sql" <<'SQL'
\set id random(1, 100000000)
INSERT INTO events (id, created_at, payload) VALUES (:id, now(), 'live');
SQL
cat > "$CASE_WORK/read.sql" <<'SQL'
\set id random(1, 10000)
SELECT id, created_at FROM events WHERE id = :id;
SQL

setup() {  # setup TOOL DB VARIANT: today's partition, DEFAULT and (variant both) an expired partition
  local tool=$1 db=$2 variant=$3
  qc "$db" "CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, payload text)
              PARTITION BY RANGE (created_at);
            CREATE INDEX events_id_idx ON events (id);" >/dev/null
  if [ "$tool" = partman ]; then
    with_partman "$db"
    q "$db" >/dev/null <<SQL
SELECT partman.create_parent('public.events', 'created_at', 'native', 'daily',
  p_premake := 1, p_start_partition := '$today');
DROP TABLE events_p${tomorrow//-/_};
CREATE TABLE events_p${expired//-/_} PARTITION OF events
  FOR VALUES FROM ('$expired 00:00:00+00') TO ('$expired_end 00:00:00+00');
UPDATE partman.part_config SET retention = '30 days', retention_keep_table = false,
  infinite_time_partitions = true WHERE parent_table = 'public.events';
SQL
    [ "$variant" = both ] || qc "$db" "DROP TABLE events_p${expired//-/_};
      UPDATE partman.part_config SET retention = NULL WHERE parent_table = 'public.events'" >/dev/null
  else
    q "$db" >/dev/null <<SQL
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE TABLE events_p${today//-/} PARTITION OF events
  FOR VALUES FROM ('$today 00:00:00+00') TO ('$tomorrow 00:00:00+00');
SQL
    [ "$variant" = both ] && qc "$db" "CREATE TABLE events_p${expired//-/} PARTITION OF events
      FOR VALUES FROM ('$expired 00:00:00+00') TO ('$expired_end 00:00:00+00')" >/dev/null
  fi
  q "$db" >/dev/null <<SQL
INSERT INTO events SELECT i, '$today'::timestamptz + i * interval '1 second', 'seed'
  FROM generate_series(1, 10000) i;
VACUUM ANALYZE events;
SQL
  if [ "$variant" = both ]; then
    qc "$db" "INSERT INTO events SELECT i, '$expired'::timestamptz + i * interval '1 second', 'old'
      FROM generate_series(1, 1000) i; ANALYZE events" >/dev/null
    [ "$(partition_count "$db" events)" = 2 ] || die "$tool: setup should leave 2 partitions"
  else
    [ "$(partition_count "$db" events)" = 1 ] || die "$tool: setup should leave 1 partition"
  fi
}

# maintain TOOL DB POLICY: runs the tool until its work is done; prints "FIRST_MS ATTEMPTS DONE_AT_MS".
maintain() {
  local tool=$1 db=$2 policy=$3 t0 t1 first attempts=1 rc=0
  t0=$(now_ms)
  if [ "$tool" = partman ]; then
    PGAPPNAME=pg_partman q "$db" -c "SELECT partman.run_maintenance('public.events')" > "$CASE_WORK/maint.out" 2>&1 || rc=$?
    t1=$(now_ms)
    [ $rc = 0 ] || { log "run_maintenance failed"; cat "$CASE_WORK/maint.out" >&2; }
    echo "$((t1 - t0)) 1 $t1"
    return
  fi
  if [ "$tool" = operator ]; then
    maintain_with_run "$db" "$policy" "$t0"
    return
  fi
  # One call: apply retries what a guard held back itself, after the operator's guard backoff.
  "$PARTOP_BIN" apply -f "$policy" --dsn "$(dsn "$db")" --retry-for 60s -o json \
    > "$CASE_WORK/apply.json" 2>&1 || rc=$?
  t1=$(now_ms)
  first=$((t1 - t0))
  python3 - "$CASE_WORK/apply.json" > "$CASE_WORK/first.reason" <<'PY' || true
import json, sys
p = json.load(open(sys.argv[1]))["policies"][0]
ready = [c for c in p["conditions"] if c["type"] == "Ready"][0]
print(ready["reason"])
PY
  [ $rc = 0 ] || { log "partop never became Ready"; tail -5 "$CASE_WORK/apply.json" >&2; t1=-1; }
  echo "$first $attempts $t1"
}

# maintain_with_run DB POLICY T0_MS: `partop run` until its log shows a Ready outcome (60 s at
# most); prints "FIRST_MS ATTEMPTS DONE_AT_MS" like maintain, from the log's timestamps.
maintain_with_run() {
  local db=$1 policy=$2 t0=$3 dir="$CASE_WORK/run-policies" pid waited=0
  rm -rf "$dir" && mkdir -p "$dir" && cp "$policy" "$dir/policy.yaml"
  # Emptied here, not by the background command's redirection: that happens in the child, after
  # the loop below may already have read the previous run's log.
  : > "$CASE_WORK/run.log"
  "$PARTOP_BIN" run --policies "$dir" --dsn "$(dsn "$db")" --metrics-bind-address 0 \
    2>> "$CASE_WORK/run.log" &
  pid=$!
  until grep -q '"msg":"reconciled".*"ready":true' "$CASE_WORK/run.log" || [ $waited -ge 600 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill "$pid" && wait "$pid" || true
  python3 - "$CASE_WORK/run.log" "$t0" "$CASE_WORK/first.reason" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
outcomes = [l for l in lines if l.get("msg") == "reconciled"]
t0 = int(sys.argv[2])
ready = [i for i, o in enumerate(outcomes) if o["ready"]]
first = round(outcomes[0]["ts"] * 1000) - t0 if outcomes else -1
attempts = ready[0] + 1 if ready else len(outcomes)
done = round(outcomes[ready[0]]["ts"] * 1000) if ready else -1
print(first, attempts, done)
print(outcomes[0]["reason"] if outcomes else "none", file=open(sys.argv[3], "w"))
PY
}

run_once() {  # run_once TOOL REP VARIANT (both|create)
  local tool=$1 rep=$2 variant=$3 db=bench_c2_$1 dir key policy="$CASE_WORK/policy.yaml"
  key=$tool
  [ "$variant" = both ] || { key=${tool}_$variant; policy="$CASE_WORK/policy-create.yaml"; }
  dir="$CASE_WORK/$key-$rep"
  rm -rf "$dir" && mkdir -p "$dir" && chmod 777 "$dir"
  db_create "$db"
  setup "$tool" "$db" "$variant"
  (cd "$dir" && PGAPPNAME=inserter pgbench -n -c 1 -R "$RATE" -T "$DURATION" -l --log-prefix=insert -f "$CASE_WORK/insert.sql" "$db" > insert.out 2>&1) &
  local ins=$!
  (cd "$dir" && PGAPPNAME=reader pgbench -n -c 1 -R "$RATE" -T "$DURATION" -l --log-prefix=read -f "$CASE_WORK/read.sql" "$db" > read.out 2>&1) &
  local rd=$!
  sleep 2
  local started
  started=$(now_ms)
  (PGAPPNAME=report PGOPTIONS=$QUIET psql -X -q -A -t -d "$db" -c "SELECT count(*), pg_sleep(10) FROM events" >/dev/null; now_ms > "$dir/blocker.end") &
  local blocker=$!
  sleep 0.5
  # Who waits on a lock, sampled every 0.25 s: explains the stalls afterwards.
  (while [ ! -f "$dir/blocker.end" ]; do
     q "$db" -c "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint || '|' || a.application_name || ': '
         || regexp_replace(left(regexp_replace(a.query, '\s+', ' ', 'g'), 70), '[0-9]+', 'N', 'g')
         || coalesce(' — waits for ' || l.mode || ' on ' || coalesce(l.relation::regclass::text, l.locktype), '')
       FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
       WHERE a.wait_event_type = 'Lock' AND a.datname = current_database()" 2>/dev/null || true
     sleep 0.25
   done > "$dir/waiters") &
  local sampler=$!
  local result first attempts done_at
  result=$(maintain "$tool" "$db" "$policy")
  read -r first attempts done_at <<<"$result"
  wait "$blocker"
  wait "$sampler" || true
  awk -F'|' -v t="$key" '{ if (!($2 in first)) first[$2] = $1; last[$2] = $1; n[$2]++ }
    END { for (k in n) printf "%s|%.1f s (%d samples)|%s\n", t, (last[k] - first[k]) / 1000, n[k], k }' \
    "$dir/waiters" | sort -t'|' -k2 -rn > "$dir/waiters.summary"
  wait "$ins" || true
  wait "$rd" || true
  local blocker_end after
  blocker_end=$(cat "$dir/blocker.end")
  after=$(( done_at < 0 ? -1 : done_at - blocker_end ))
  local ins_stats rd_stats
  ins_stats=$(pgbench_stats "$dir" insert)
  rd_stats=$(pgbench_stats "$dir" read)
  local ins_max ins_n ins_f rd_max rd_n rd_f
  read -r ins_max ins_n ins_f <<<"$ins_stats"
  read -r rd_max rd_n rd_f <<<"$rd_stats"
  # The work must be done: tomorrow's partition created, the expired one dropped.
  local created dropped
  created=$(qc "$db" "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'events'::regclass AND pg_get_expr(c.relpartbound, c.oid) LIKE 'FOR VALUES FROM (''$tomorrow 00:00:00%'")
  dropped=$(qc "$db" "SELECT count(*) = 0 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'events'::regclass AND pg_get_expr(c.relpartbound, c.oid) LIKE 'FOR VALUES FROM (''$expired 00:00:00%'")
  [ "$created" = 1 ] && [ "$dropped" = t ] || log "WARNING: $key rep $rep: created=$created dropped=$dropped"
  record "$key" ins_max "$ins_max"
  record "$key" rd_max "$rd_max"
  record "$key" failed "$((ins_f + rd_f))"
  record "$key" txns "$((ins_n + rd_n))"
  record "$key" first "$first"
  record "$key" attempts "$attempts"
  record "$key" after "$after"
  record "$key" ok "$([ "$created" = 1 ] && [ "$dropped" = t ] && echo yes || echo no)"
  [ "$tool" = partman ] || record "$key" reason "$(cat "$CASE_WORK/first.reason")"
  log "rep $rep $key: insert max ${ins_max} ms, read max ${rd_max} ms, failed $((ins_f + rd_f)) of $((ins_n + rd_n)), first call ${first} ms, attempts $attempts, done ${after} ms after the blocker ended (blocker ran $((blocker_end - started)) ms)"
  db_drop "$db"
}

for rep in $(seq 1 "$REPS"); do
  for tool in partop operator partman; do run_once "$tool" "$rep" both; done
done
for rep in $(seq 1 "$CREATE_REPS"); do
  for tool in partop operator partman; do run_once "$tool" "$rep" create; done
done

out "## 2. Write stall: a 10 s report query holds ACCESS SHARE while maintenance must create and drop" ""
out "An inserter (\`INSERT … now()\`, into today's partition) and a reader (\`SELECT … WHERE id = random\`," \
  "no partition key, so it touches every partition) run as two pgbench clients at $RATE tx/s each for" \
  "$DURATION s with \`-l\` per-transaction logs. 2 s in, another session runs" \
  "\`SELECT count(*), pg_sleep(10) FROM events\`; 0.5 s later maintenance starts and must create" \
  "tomorrow's partition (ATTACH: ACCESS EXCLUSIVE on DEFAULT) and drop a 100-day-old one (DROP or" \
  "DETACH: ACCESS EXCLUSIVE on the parent). partop, lockTimeout 2s: \`apply --retry-for 60s\`, one" \
  "call that retries what a guard held back after 250 ms, then every 500 ms, done when it exits" \
  "(its outcome is the last); and \`partop run\` — the operator's controller, work queue and the" \
  "same guard backoff over a directory of policies — done at its first Ready outcome (calls =" \
  "reconciles, its outcome the first). pg_partman: \`SELECT partman.run_maintenance('public.events')\` once, with" \
  "\`retention = '30 days'\`, \`retention_keep_table = false\`, premake 1 and" \
  "\`infinite_time_partitions = true\` in part_config. Every run is checked to end with tomorrow's" \
  "partition attached and the expired one gone. \"Longest\" is pgbench's per-transaction latency" \
  "(schedule lag excluded)." ""

table() {  # table SUFFIX REPS TITLE
  local a=partop$1 o=operator$1 b=partman$1
  out "### $3 ($2 repetitions per tool, interleaved)" ""
  out "| | partop apply --retry-for | partop run (operator loop) | pg_partman | apply / pg_partman | run / pg_partman |" \
    "|---|---:|---:|---:|---:|---:|"
  cell() { echo "$(med "$1" "$2") ($(all_values "$1" "$2"))"; }
  row() {  # row LABEL METRIC
    out "| $1 (median; runs) | $(cell $a "$2") | $(cell $o "$2") | $(cell $b "$2") | $(ratio "$(med $a "$2")" "$(med $b "$2")") | $(ratio "$(med $o "$2")" "$(med $b "$2")") |"
  }
  worst_row() {  # worst_row LABEL METRIC
    out "| $1 | $(worst $a "$2") | $(worst $o "$2") | $(worst $b "$2") | $(ratio "$(worst $a "$2")" "$(worst $b "$2")") | $(ratio "$(worst $o "$2")" "$(worst $b "$2")") |"
  }
  row "longest insert, ms" ins_max
  row "longest read, ms" rd_max
  worst_row "worst insert over all runs, ms" ins_max
  worst_row "worst read over all runs, ms" rd_max
  row "failed statements" failed
  row "transactions run (insert + read)" txns
  row "first call returned after, ms" first
  row "calls until done" attempts
  row "work done, ms after the report query ended" after
  out "| work done in every run | $(all_values $a ok) | $(all_values $o ok) | $(all_values $b ok) | | |"
  out "| partop's outcome | $(all_values $a reason) | $(all_values $o reason) | | | |" ""
  out "Sessions seen waiting on a lock in the last repetition (pg_stat_activity and pg_locks sampled" \
    "about every 0.3 s until the report query ended; span from first to last sample):" ""
  out "| tool | seen waiting for | waiting statement (application: query, digits as N) — lock awaited |" "|---|---:|---|"
  local key
  for key in $a $o $b; do
    if [ -s "$CASE_WORK/$key-$2/waiters.summary" ]; then
      while IFS='|' read -r t secs stmt; do out "| $t | $secs | \`${stmt# }\` |"; done < "$CASE_WORK/$key-$2/waiters.summary"
    else
      out "| $key | 0 | (none seen) |"
    fi
  done
  out ""
}
table "" "$REPS" "Create one partition and drop one expired partition"
[ "$CREATE_REPS" -gt 0 ] && table _create "$CREATE_REPS" "Variant: create only (no expired partition, no retention)"
out "Goal for partop: worst stall ≤ lockTimeout (2 s) + a small margin. pg_partman 4.7.2's" \
  "run_maintenance() runs retention (\`drop_partition_time\`) before creating partitions, and sets no" \
  "lock_timeout: its DETACH/DROP queues for ACCESS EXCLUSIVE on the parent behind the report query, and" \
  "every insert and read queues behind it. partop's goal for time to done after the blocker: ≤ 1 s" \
  "in both modes." ""
