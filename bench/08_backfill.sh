#!/usr/bin/env bash
# Case 8 — backfill of history. A daily-partitioned table holds BENCH_C8_DAYS past days of
# BENCH_C8_ROWS_PER_DAY rows each; a corrected source table holds the same rows with another
# amount. While an inserter writes into today's partition (pgbench, rate-limited, per-transaction
# logs), the whole range is recomputed from the source by:
#   - partop: `partop apply` of a PartitionBackfill (per partition: shadow, fill slices of
#     64 MiB each by default, index, ANALYZE, swap under the lock guard);
#   - the naive way: one transaction, DELETE the range then INSERT ... SELECT from the source;
#   - plain SQL per partition (the field-tested recipe by hand): CREATE TABLE LIKE, INSERT ...
#     SELECT, index, then DETACH / rename / ATTACH in one transaction, partition after partition.
# Measured: rows/s, wall time, the inserter's worst latency and failed statements, and the
# longest time a reader would have seen the range partly rebuilt (naive: the whole transaction's
# locks; partop and per-partition SQL: one partition at a time, never visible half-done).
source "$(dirname "$0")/lib.sh"
REPS=${BENCH_C8_REPS:-2}
DAYS=${BENCH_C8_DAYS:-30}
ROWS_PER_DAY=${BENCH_C8_ROWS_PER_DAY:-20000}
RATE=${BENCH_C8_RATE:-50}
out_reset
reset_records
ROWS=$((DAYS * ROWS_PER_DAY))
FROM=$(date -u -d "-$((DAYS + 1)) days" +%Y-%m-%d)
TO=$(date -u -d "-1 days" +%Y-%m-%d)

cat > "$CASE_WORK/backfill.yaml" <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionBackfill
metadata: {name: usage-fix}
spec:
  table: public.usage
  source: public.usage_v2
  range: {from: "$FROM", to: "$TO"}
  replaced: drop
  guards: {lockTimeout: 2s}
YAML
cat > "$CASE_WORK/insert.sql" <<'SQL'
INSERT INTO usage (id, day, tenant, amount) VALUES (nextval('writer_ids'), now(), 1, 1);
SQL

setup() {  # setup DB
  q "$1" >/dev/null <<SQL
SET timezone = 'UTC';
CREATE TABLE usage (id bigint NOT NULL, day timestamptz NOT NULL, tenant int NOT NULL,
                    amount bigint NOT NULL, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
CREATE INDEX usage_tenant ON usage (tenant);
CREATE SEQUENCE writer_ids START 1000000000;
DO \$\$ BEGIN
  FOR i IN -$((DAYS + 1))..2 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF usage FOR VALUES FROM (%L) TO (%L)',
                   'usage_p' || to_char(current_date + i, 'YYYYMMDD'),
                   (current_date + i)::timestamp AT TIME ZONE 'UTC',
                   (current_date + i + 1)::timestamp AT TIME ZONE 'UTC');
  END LOOP;
END \$\$;
INSERT INTO usage SELECT i, '$FROM'::timestamptz + ((i - 1) % $DAYS) * interval '1 day'
    + (i % 86400) * interval '1 second', i % 100, 1
  FROM generate_series(1, $ROWS) i;
CREATE TABLE usage_v2 AS SELECT id, day, tenant, 2::bigint AS amount FROM usage;
VACUUM ANALYZE usage;
VACUUM ANALYZE usage_v2;
SQL
}

naive_sql() {  # naive_sql DB
  qc "$1" "BEGIN;
    DELETE FROM usage WHERE day >= '$FROM' AND day < '$TO';
    INSERT INTO usage SELECT * FROM usage_v2 WHERE day >= '$FROM' AND day < '$TO';
    COMMIT;" >/dev/null
}

per_partition_sql() {  # per_partition_sql DB: the recipe by hand, one partition at a time
  local db=$1 d name lower upper
  for d in $(seq "$DAYS" -1 1); do
    name=usage_p$(date -u -d "-$((d + 1)) days" +%Y%m%d)
    lower=$(date -u -d "-$((d + 1)) days" +%Y-%m-%d)
    upper=$(date -u -d "-$d days" +%Y-%m-%d)
    q "$db" >/dev/null <<SQL
CREATE TABLE ${name}_new (LIKE usage INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO ${name}_new SELECT * FROM usage_v2 WHERE day >= '$lower' AND day < '$upper';
ALTER TABLE ${name}_new ADD PRIMARY KEY (id, day);
CREATE INDEX ON ${name}_new (tenant);
ALTER TABLE ${name}_new ADD CONSTRAINT ${name}_bound CHECK (day >= '$lower' AND day < '$upper');
ANALYZE ${name}_new;
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE usage DETACH PARTITION $name;
DROP TABLE $name;
ALTER TABLE ${name}_new RENAME TO $name;
ALTER TABLE usage ATTACH PARTITION $name FOR VALUES FROM ('$lower') TO ('$upper');
COMMIT;
SQL
  done
}

run_once() {  # run_once TOOL REP
  local tool=$1 rep=$2 db=bench_c8_$1 dir t0 t1 rc=0
  dir="$CASE_WORK/$tool-$rep"
  rm -rf "$dir" && mkdir -p "$dir" && chmod 777 "$dir"
  db_create "$db"
  setup "$db"
  load_start "$dir" "$db" "$CASE_WORK/insert.sql" insert "$RATE"
  sleep 2
  t0=$(now_ms)
  case $tool in
    partop)
      "$PARTOP_BIN" apply -f "$CASE_WORK/backfill.yaml" --dsn "$(dsn "$db")" > "$dir/apply.out" 2>&1 || rc=$?
      [ $rc = 0 ] || { log "partop apply failed"; tail -5 "$dir/apply.out" >&2; } ;;
    naive) naive_sql "$db" ;;
    per_partition) per_partition_sql "$db" ;;
  esac
  t1=$(now_ms)
  sleep 2
  load_stop "$dir" insert
  record "$tool" total_ms $((t1 - t0))
  record "$tool" rows_per_s "$(div "$ROWS" "$((t1 - t0))" 3 | awk '{ printf "%.0f", $1 * 1000 }')"
  local stats
  stats=$(pgbench_stats "$dir" insert)
  record "$tool" insert_worst_ms "${stats%% *}"
  record "$tool" insert_failed "$(echo "$stats" | awk '{ print $3 }')"
  # Every row of the range comes from the source, nothing else changed.
  record "$tool" wrong_rows "$(qc "$db" "SELECT (SELECT count(*) FROM usage WHERE day >= '$FROM' AND day < '$TO' AND amount <> 2)
                                         + abs((SELECT count(*) FROM usage WHERE day >= '$FROM' AND day < '$TO') - $ROWS)")"
  db_drop "$db"
}

for rep in $(seq 1 "$REPS"); do
  for tool in partop naive per_partition; do
    log "rep $rep: $tool"
    run_once "$tool" "$rep"
  done
done

out "## 8. Backfill of history ($DAYS daily partitions × $ROWS_PER_DAY rows, an inserter at $RATE tx/s)" ""
out "\`partop apply\` of a PartitionBackfill (per partition: shadow, fill slices of 64 MiB by default, indexes, ANALYZE,"
out "swap) beside the naive one-transaction DELETE + INSERT ... SELECT over the whole range and the"
out "per-partition recipe as plain SQL (new table, fill, indexes, then DETACH/DROP/rename/ATTACH in"
out "one transaction). The inserter writes into today's partition. \"Wrong rows\" counts rows of the"
out "range that do not come from the source, or are missing, after the run." ""
out "| | partop | naive SQL | per-partition SQL | partop / per-partition |" "|---|---|---|---|---|"
for metric in total_ms rows_per_s insert_worst_ms insert_failed wrong_rows; do
  a=$(med partop "$metric")
  n=$(med naive "$metric")
  p=$(med per_partition "$metric")
  out "| $metric (median of $REPS) | $a | $n | $p | $(ratio "$a" "$p") |"
done
out ""
