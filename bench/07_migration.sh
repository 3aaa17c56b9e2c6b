#!/usr/bin/env bash
# Case 7 — live migration of an unpartitioned table. A table of BENCH_C7_ROWS rows (24 months of
# created_at, bigserial primary key) is turned into a monthly-partitioned one while an inserter
# and an updater (pgbench, rate-limited, per-transaction logs) write through the table's name:
#   - partop: `partop apply` of a PartitionMigration, copy strategy (twin + sync triggers +
#     batches of 10,000 + swap) and move strategy (routing view + DELETE ... RETURNING batches),
#     then a rollback (target Original) and a second swap, each timed;
#   - pgslice's published approach as plain SQL (what `pgslice prep`, `fill --batch-size 10000`
#     and `swap` run): an intermediate table, INSERT ... SELECT batches by id, then one
#     transaction with lock_timeout 5s that renames both tables and moves the sequence.
# Measured: copy throughput (rows/s, with the workload running), the whole conversion's wall
# time, the longest insert and update latency, failed statements, and rows whose content differs
# between the table in use and the retired one after the swap (updates the approach lost).
source "$(dirname "$0")/lib.sh"
REPS=${BENCH_C7_REPS:-2}
ROWS=${BENCH_C7_ROWS:-1000000}
RATE=${BENCH_C7_RATE:-50}
out_reset
reset_records

cat > "$CASE_WORK/migration.yaml" <<'YAML'
apiVersion: partop.dev/v1alpha1
kind: PartitionMigration
metadata: {name: orders}
spec:
  table: public.orders
  partitionKey: created_at
  interval: monthly
  premake: 2
  batchSize: 10000
  acceptPerPartitionUniqueness: [orders_pkey]
  guards: {lockTimeout: 2s}
YAML
sed 's/^  premake: 2$/  premake: 2\n  target: Original/' "$CASE_WORK/migration.yaml" > "$CASE_WORK/rollback.yaml"
for file in migration rollback; do
  sed 's/^  premake: 2$/  premake: 2\n  strategy: move/' "$CASE_WORK/$file.yaml" > "$CASE_WORK/$file-move.yaml"
done
cat > "$CASE_WORK/insert.sql" <<'SQL'
INSERT INTO orders (created_at, customer, amount) VALUES (now(), 1, 1);
SQL
cat > "$CASE_WORK/update.sql" <<SQL
\set id random(1, $ROWS)
UPDATE orders SET amount = amount + 1 WHERE id = :id;
SQL

setup() {  # setup DB
  q "$1" >/dev/null <<SQL
CREATE TABLE orders (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, customer int NOT NULL,
                     amount bigint NOT NULL);
CREATE INDEX orders_customer_idx ON orders (customer);
INSERT INTO orders (created_at, customer, amount)
  SELECT now() - (i % 720) * interval '1 day' - (i % 86400) * interval '1 second', i % 1000, 0
  FROM generate_series(1, $ROWS) i;
VACUUM ANALYZE orders;
SQL
}

# pgslice's prep, fill and swap as plain SQL; prints "FILL_MS SWAP_MS".
pgslice_sql() {
  local db=$1 t0 t1 t2 max start month
  q "$db" >/dev/null <<'SQL'
CREATE TABLE orders_intermediate (LIKE orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE
  INCLUDING COMMENTS INCLUDING STATISTICS INCLUDING GENERATED INCLUDING COMPRESSION) PARTITION BY RANGE (created_at);
CREATE INDEX ON orders_intermediate (id);
CREATE INDEX ON orders_intermediate (customer);
SQL
  start=$(qc "$db" "SELECT to_char(date_trunc('month', min(created_at)), 'YYYY-MM-DD') FROM orders")
  for month in $(seq 0 27); do
    echo "CREATE TABLE orders_$month PARTITION OF orders_intermediate FOR VALUES
      FROM (date '$start' + interval '$month month') TO (date '$start' + interval '$((month + 1)) month');"
  done | q "$db" >/dev/null
  max=$(qc "$db" "SELECT max(id) FROM orders")
  # The fill: one session, one autocommit statement per batch, as pgslice runs it.
  local from=0
  while [ "$from" -lt "$max" ]; do
    echo "INSERT INTO orders_intermediate SELECT * FROM orders WHERE id > $from AND id <= $((from + 10000));"
    from=$((from + 10000))
  done > "$CASE_WORK/fill.sql"
  t0=$(now_ms)
  q "$db" -f "$CASE_WORK/fill.sql" >/dev/null
  t1=$(now_ms)
  # pgslice swap: one transaction, lock_timeout 5s, no retry.
  qc "$db" "BEGIN; SET LOCAL lock_timeout = '5s';
    ALTER TABLE orders RENAME TO orders_retired;
    ALTER TABLE orders_intermediate RENAME TO orders;
    ALTER SEQUENCE orders_id_seq OWNED BY orders.id;
    COMMIT;" >/dev/null
  t2=$(now_ms)
  # pgslice fill --swapped: rows inserted into the retired table after the fill.
  qc "$db" "INSERT INTO orders SELECT * FROM orders_retired WHERE id > $max" >/dev/null
  echo "$((t1 - t0)) $((t2 - t1))"
}

run_once() {  # run_once TOOL REP
  local tool=$1 rep=$2 db=bench_c7_$1 dir t0 t1 rc=0
  dir="$CASE_WORK/$tool-$rep"
  rm -rf "$dir" && mkdir -p "$dir" && chmod 777 "$dir"
  db_create "$db"
  setup "$db"
  load_start "$dir" "$db" "$CASE_WORK/insert.sql" insert "$RATE"
  load_start "$dir" "$db" "$CASE_WORK/update.sql" update "$RATE"
  sleep 2
  t0=$(now_ms)
  if [ "$tool" != pgslice ]; then
    local suffix=""
    [ "$tool" = partop_move ] && suffix=-move
    "$PARTOP_BIN" apply -f "$CASE_WORK/migration$suffix.yaml" --dsn "$(dsn "$db")" > "$dir/apply.out" 2>&1 || rc=$?
    t1=$(now_ms)
    [ $rc = 0 ] || { log "partop apply failed"; tail -5 "$dir/apply.out" >&2; }
    record "$tool" total_ms $((t1 - t0))
    local swaps=()
    for file in rollback migration; do
      local s0 s1
      s0=$(now_ms)
      "$PARTOP_BIN" apply -f "$CASE_WORK/$file$suffix.yaml" --dsn "$(dsn "$db")" > "$dir/$file.out" 2>&1 || log "partop $file failed"
      s1=$(now_ms)
      swaps+=($((s1 - s0)))
    done
    record "$tool" rollback_ms "${swaps[0]}"
    record "$tool" reswap_ms "${swaps[1]}"
  else
    local times
    times=$(pgslice_sql "$db")
    t1=$(now_ms)
    record "$tool" total_ms $((t1 - t0))
    record "$tool" fill_ms "${times% *}"
    record "$tool" swap_ms "${times#* }"
  fi
  sleep 2
  load_stop "$dir" insert
  load_stop "$dir" update
  local stats
  for client in insert update; do
    stats=$(pgbench_stats "$dir" "$client")
    record "$tool" "${client}_worst_ms" "${stats%% *}"
    record "$tool" "${client}_failed" "$(echo "$stats" | awk '{ print $3 }')"
  done
  # Rows present before the conversion whose content differs between the two tables.
  record "$tool" stale_rows "$(qc "$db" "SELECT count(*) FROM orders_retired r JOIN orders o USING (id)
                                           WHERE (r.created_at, r.amount) IS DISTINCT FROM (o.created_at, o.amount)
                                             AND r.id <= $ROWS")"
  record "$tool" rows_per_s "$(div "$ROWS" "$(( $(values "$tool" total_ms | tail -1) ))" 3 | awk '{ printf "%.0f", $1 * 1000 }')"
  db_drop "$db"
}

for rep in $(seq 1 "$REPS"); do
  for tool in partop partop_move pgslice; do
    log "rep $rep: $tool"
    run_once "$tool" "$rep"
  done
done

out "## 7. Live migration of an unpartitioned table ($ROWS rows, writers at $RATE tx/s each)" ""
out "Copy strategy (\`partop apply\` of a PartitionMigration: prepare, sync triggers, batches of 10,000, swap)"
out "beside pgslice's approach as plain SQL (intermediate table, INSERT ... SELECT batches of 10,000 by id,"
out "one renaming transaction). Rows/s is the whole conversion's throughput with the workload running."
out "\"Stale rows\" are rows that existed before the conversion and differ between the table in use and"
out "the retired one afterwards: updates the approach lost (pgslice copies once and never syncs)." ""
out "| | partop copy | partop move | pgslice (SQL) | copy / pgslice |" "|---|---|---|---|---|"
for metric in total_ms rows_per_s insert_worst_ms update_worst_ms insert_failed update_failed stale_rows; do
  a=$(med partop "$metric")
  m=$(med partop_move "$metric")
  b=$(med pgslice "$metric")
  out "| $metric (median of $REPS) | $a | $m | $b | $(ratio "$a" "$b") |"
done
out "" "partop copy: rollback (target Original) $(all_values partop rollback_ms) ms, second swap $(all_values partop reswap_ms) ms;"
out "partop move: rollback (moves every row back) $(all_values partop_move rollback_ms) ms, second move $(all_values partop_move reswap_ms) ms"
out "(whole \`partop apply\` runs, connection included). pgslice's fill took $(all_values pgslice fill_ms) ms and its swap"
out "$(all_values pgslice swap_ms) ms; it has no rollback that keeps writes made after the swap." ""
