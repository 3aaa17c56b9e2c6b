#!/usr/bin/env bash
# A PartitionBackfill applied with kubectl rebuilds five past daily partitions from a corrected
# source while a writer keeps inserting into today's partition; kubectl get pbf shows the
# progress, describe the conditions; an Event per swapped partition; the rebuilt partitions hold
# the source's rows and keep their indexes; the replaced ones are kept, detached. A second
# backfill names its table through a PartitionPolicy (policyRef): PolicyNotFound until the policy
# exists, then it runs with the policy's table and database.
source "$(dirname "$0")/../lib.sh"
setup
psql_db <<'SQL'
SET timezone = 'UTC';
CREATE TABLE usage (id bigint NOT NULL, day timestamptz NOT NULL DEFAULT now(), amount bigint NOT NULL,
                    PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
DO $$ BEGIN
  FOR i IN -10..2 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF usage FOR VALUES FROM (%L) TO (%L)',
                   'usage_p' || to_char(current_date + i, 'YYYYMMDD'),
                   (current_date + i)::timestamp AT TIME ZONE 'UTC',
                   (current_date + i + 1)::timestamp AT TIME ZONE 'UTC');
  END LOOP;
END $$;
INSERT INTO usage SELECT i, current_date::timestamp AT TIME ZONE 'UTC' - ((i % 10) + 1) * interval '1 day', 1
  FROM generate_series(1, 20000) i;
CREATE TABLE usage_v2 AS SELECT id, day, 2::bigint AS amount FROM usage;
CREATE SEQUENCE writer_ids START 1000000;
SQL
create_secret
# The writer: today's partition keeps taking rows throughout.
( while :; do psql_db -c "INSERT INTO usage (id, amount) VALUES (nextval('writer_ids'), 1)" >/dev/null || exit 1; done ) &
writer=$!
from=$(psql_db -c "SELECT to_char(current_date - 8, 'YYYY-MM-DD')")
to=$(psql_db -c "SELECT to_char(current_date - 3, 'YYYY-MM-DD')")
k apply -f - >/dev/null <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionBackfill
metadata: {name: usage-fix}
spec:
  table: public.usage
  source: public.usage_v2
  range: {from: "$from", to: "$to"}
  slicesPerPartition: 4
  databaseRef: {secretName: db}
YAML
start_operator main
k wait --for=condition=Ready pbf/usage-fix --timeout=180s >/dev/null ||
  fail "never Ready: $(k get pbf usage-fix -o jsonpath='{.status}')"
kill "$writer"; wait "$writer" 2>/dev/null || true
get=$(k get pbf usage-fix)
grep -q "TABLE.*SOURCE.*PROGRESS.*READY" <<<"$get" || fail "printer columns missing: $get"
grep -Eq "public.usage +public.usage_v2 +5/5 +True" <<<"$get" || fail "printer values wrong: $get"
assert_eq "$(psql_db -c "SELECT count(*) || ':' || sum(amount) FROM usage WHERE day >= '$from' AND day < '$to'")" \
  "10000:20000" "rows of the range"
assert_eq "$(psql_db -c "SELECT count(*) FROM usage WHERE day < '$from' AND amount <> 1")" 0 "rows before the range"
assert_eq "$(psql_db -c "SELECT count(*) FROM pg_inherits i JOIN pg_index x ON x.indexrelid = i.inhrelid WHERE i.inhparent = 'usage_pkey'::regclass AND x.indisvalid")" \
  13 "partition indexes attached to usage_pkey"
assert_eq "$(psql_db -c "SELECT count(*) FROM pg_class WHERE relname LIKE 'usage\\_p%\\_replaced' AND relkind = 'r' AND NOT relispartition")" \
  5 "replaced partitions kept"
[ "$(psql_db -c "SELECT count(*) FROM usage WHERE id >= 1000000")" -gt 0 ] || fail "the writer wrote nothing"
has_event PartitionSwapped usage-fix || fail "no PartitionSwapped event"
describe=$(k describe pbf usage-fix)
grep -q "Complete" <<<"$describe" || fail "no Complete reason in describe: $describe"
assert_eq "$(k get pbf usage-fix -o jsonpath='{.status.rowsWritten}')" 10000 "rowsWritten"
metrics=$(curl -s "http://127.0.0.1:$(metrics_port main)/metrics")
grep -q "^partop_backfill_partitions_remaining{backfill=\"usage-fix\",namespace=\"$NS\"} 0$" <<<"$metrics" ||
  fail "no partitions-remaining gauge at 0: $(grep backfill <<<"$metrics")"
grep -q '^partop_ddl_total{action="swap-partition"} [1-9]' <<<"$metrics" ||
  fail "swaps not counted in partop_ddl_total: $(grep ddl_total <<<"$metrics")"

older=$(psql_db -c "SELECT to_char(current_date - 10, 'YYYY-MM-DD')")
k apply -f - >/dev/null <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionBackfill
metadata: {name: usage-fix-older}
spec:
  policyRef: {name: usage}
  source: public.usage_v2
  range: {from: "$older", to: "$from"}
  replaced: drop
YAML
pbf_reason() { k get pbf usage-fix-older -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}'; }
wait_until 30 "PolicyNotFound" eval '[ "$(pbf_reason)" = PolicyNotFound ]'
assert_eq "$(psql_db -c "SELECT count(*) FROM usage WHERE day >= '$older' AND day < '$from' AND amount = 2")" \
  0 "rows rebuilt before the policy exists"
policy usage public.usage "  suspend: true"
k wait --for=condition=Ready pbf/usage-fix-older --timeout=120s >/dev/null ||
  fail "policyRef backfill never Ready: $(k get pbf usage-fix-older -o jsonpath='{.status}')"
assert_eq "$(psql_db -c "SELECT count(*) || ':' || sum(amount) FROM usage WHERE day >= '$older' AND day < '$from'")" \
  "4000:8000" "rows of the policyRef backfill's range"
pass
