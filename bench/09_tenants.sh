#!/usr/bin/env bash
# Case 9 — tenant (list) partitions. An empty events table PARTITION BY LIST (tenant_id) and a
# tenants table of BENCH_C9_TENANTS rows; each tenant needs a sub-tree PARTITION BY RANGE
# (event_ts) with today and 7 days ahead (8 daily partitions), a DEFAULT, and the parent's
# (id) index. Measured, side by side:
#   - partop: `partop apply` of a list policy (valuesFrom the tenants table), under its guards;
#   - plain SQL, the floor: one psql session running CREATE TABLE ... PARTITION OF for every
#     table, one transaction per tenant, no guard, no check;
#   - pg_partman: n/a — it creates no LIST partitions by itself (its issues #504, #748).
# Then a no-op reconcile of the whole set (partop: a second apply; the floor: one catalog query
# that confirms every tenant's layout), and one tenant added to the tenants table.
source "$(dirname "$0")/lib.sh"
REPS=${BENCH_C9_REPS:-2}
TENANTS=${BENCH_C9_TENANTS:-500}
DB=bench_c9
out_reset
reset_records

cat > "$CASE_WORK/policy.yaml" <<'YAML'
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata: {name: events}
spec:
  table: public.events
  list: {column: tenant_id, valuesFrom: {table: public.tenants, column: id}}
  timeKey: event_ts
  interval: daily
  premake: 7
  indexes: [{name: events_id_idx, columns: [id]}]
YAML

setup() {
  db_create "$DB"
  qc "$DB" "CREATE TABLE tenants (id text PRIMARY KEY);
    INSERT INTO tenants SELECT 't' || lpad(i::text, 5, '0') FROM generate_series(1, $TENANTS) i;
    CREATE TABLE events (id bigint NOT NULL, tenant_id text NOT NULL, event_ts timestamptz NOT NULL,
                         payload text) PARTITION BY LIST (tenant_id);" >/dev/null
}

# plain_tenant_sql TENANT: the floor's transaction for one tenant.
plain_tenant_sql() {
  local t=$1 d
  echo "BEGIN;"
  echo "CREATE TABLE events_$t PARTITION OF events FOR VALUES IN ('$t') PARTITION BY RANGE (event_ts);"
  echo "CREATE TABLE events_${t}_default PARTITION OF events_$t DEFAULT;"
  for d in $(seq 0 7); do
    echo "CREATE TABLE events_${t}_p$(date -u -d "+$d days" +%Y%m%d) PARTITION OF events_$t FOR VALUES FROM ('$(date -u -d "+$d days" +%Y-%m-%d)') TO ('$(date -u -d "+$((d + 1)) days" +%Y-%m-%d)');"
  done
  echo "COMMIT;"
}

# The floor's script is written before the clock starts; only running it is timed.
plain_script() {
  {
    echo "SET timezone = 'UTC';"
    echo "CREATE INDEX events_id_idx ON events (id);"
    echo "CREATE TABLE events_default PARTITION OF events DEFAULT;"
    qc "$DB" "SELECT id FROM tenants ORDER BY id" | while read -r t; do plain_tenant_sql "$t"; done
  } > "$CASE_WORK/plain.sql"
  plain_tenant_sql zz_new > "$CASE_WORK/one.sql"
}
plain_sql() { q "$DB" -f "$CASE_WORK/$1" >/dev/null; }

# The floor's no-op: one query that finds every tenant with its 8 partitions and DEFAULT.
plain_check() {
  qc "$DB" "SELECT count(*) FILTER (WHERE n <> 9) FROM (SELECT t.id, count(c.oid) AS n FROM tenants t
      LEFT JOIN pg_inherits i ON i.inhparent = to_regclass('events_' || t.id)
      LEFT JOIN pg_class c ON c.oid = i.inhrelid GROUP BY t.id) s" >/dev/null
}

partop_apply() {
  "$PARTOP_BIN" apply -f "$CASE_WORK/policy.yaml" --dsn "$(dsn "$DB")" > "$CASE_WORK/apply.out" 2>&1 \
    || { tail -5 "$CASE_WORK/apply.out" >&2; die "partop apply not Ready"; }
}

# statements TOOL: top-level statements pg_stat_statements counted in this database since the
# last reset (client round trips, as every partop statement is one).
statements_since_reset() {
  qc postgres "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$DB') AND toplevel
        AND query NOT LIKE '%pg_stat_statements_reset%'"
}
reset_statements() {
  qc postgres "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = '$DB'), 0)" >/dev/null
}

timed() { local t0; t0=$(now_ms); "$@"; echo $(( $(now_ms) - t0 )); }

run_once() {  # run_once TOOL
  local tool=$1 ms
  setup
  [ "$tool" = partop ] || plain_script
  if [ "$tool" = partop ]; then ms=$(timed partop_apply); else ms=$(timed plain_sql plain.sql); fi
  record "$tool" create_ms "$ms"
  record "$tool" tenant_partitions "$(partition_count "$DB" events)"
  record "$tool" leaves "$(qc "$DB" "SELECT count(*) FROM pg_partition_tree('events') WHERE isleaf")"
  record "$tool" index_valid "$(qc "$DB" "SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_id_idx'::regclass")"
  reset_statements
  if [ "$tool" = partop ]; then ms=$(timed partop_apply); else ms=$(timed plain_check); fi
  record "$tool" noop_ms "$ms"
  record "$tool" noop_statements "$(statements_since_reset)"
  qc "$DB" "INSERT INTO tenants VALUES ('zz_new')" >/dev/null
  if [ "$tool" = partop ]; then ms=$(timed partop_apply); else ms=$(timed plain_sql one.sql); fi
  record "$tool" new_tenant_ms "$ms"
  db_drop "$DB"
}

for rep in $(seq 1 "$REPS"); do
  for tool in partop plain; do
    log "rep $rep: $tool"
    run_once "$tool"
  done
done

out "## 9. Tenant partitions ($TENANTS tenants × 8 daily partitions + DEFAULT each, from empty)" ""
out "A list policy (\`valuesFrom\` a tenants table, \`timeKey\`, daily, premake 7, one index) applied by"
out "\`partop apply\`, beside the plain-SQL floor: one psql session running \`CREATE TABLE ... PARTITION"
out "OF\` for every table, a transaction per tenant, no lock guard, no check. pg_partman creates no"
out "LIST partitions by itself (its issues #504, #748), so it has no column. The no-op is a second"
out "\`apply\` against the floor's single catalog query; statements are pg_stat_statements' top-level"
out "calls in the database (each a client round trip). \"One new tenant\" is a row added to the"
out "tenants table, then an \`apply\` (the floor: that tenant's transaction alone)." ""
out "| | partop | plain SQL | partop / plain |" "|---|---|---|---|"
for metric in create_ms noop_ms noop_statements new_tenant_ms tenant_partitions leaves index_valid; do
  a=$(med partop "$metric")
  p=$(med plain "$metric")
  case $metric in tenant_partitions|leaves|index_valid) r="" ;; *) r=$(ratio "$a" "$p") ;; esac
  out "| $metric (median of $REPS) | $a | $p | $r |"
done
out ""
