#!/usr/bin/env bash
# A big table's partition map fits: a run of hourly partitions partop would have named itself is
# published in the "<policy>-partitions" ConfigMap as one entry (plus DEFAULT) with the count,
# whatever its length — before, one entry per partition passed the API's 1 MiB object limit at
# roughly 8,500 partitions and the map was silently never written. 2,000 partitions here: making
# them costs PostgreSQL time quadratic in their number (each CREATE rebuilds the parent's
# partition descriptor; 20,000 would take many minutes), so the 20,000-partition case is the unit
# test of partition_map_entries ("an hourly table kept two years and more").
source "$(dirname "$0")/../lib.sh"
setup
psql_db <<'SQL'
CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
DO $$
DECLARE
  first timestamptz := date_trunc('hour', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1990 hours';
  lower timestamptz;
BEGIN
  FOR i IN 0 .. 1999 LOOP
    lower := first + i * interval '1 hour';
    EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                   'events_p' || to_char(lower AT TIME ZONE 'UTC', 'YYYYMMDD_HH24'),
                   lower, lower + interval '1 hour');
    IF i % 500 = 499 THEN COMMIT; END IF;
  END LOOP;
END $$;
SQL
assert_eq "$(partition_count events)" 2000 "partitions made by hand"
create_secret
k apply -f - >/dev/null <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata: {name: events}
spec: {table: events, interval: hourly, premake: 4, databaseRef: {secretName: db}}
YAML
start_operator main
k wait --for=condition=Ready ppol/events --timeout=120s >/dev/null || fail "not Ready"
wait_until 30 "the partition map is written" k get configmap events-partitions
assert_eq "$(k get configmap events-partitions -o jsonpath='{.data.partitionCount}')" 2001 "partitionCount"
map=$(k get configmap events-partitions -o jsonpath='{.data.partitions\.json}')
assert_eq "$(jq length <<<"$map")" 2 "entries (one run and DEFAULT)"
assert_eq "$(jq '.[0].count' <<<"$map")" 2000 "partitions in the run"
assert_eq "$(jq -r '.[0].names' <<<"$map")" events_pYYYYMMDD_HH "name pattern"
assert_eq "$(jq -r '.[1].default' <<<"$map")" true "DEFAULT entry"
log "partition map: ${#map} bytes for 2,001 partitions"
[ -z "$(condition events PartitionMapComplete)" ] || fail "PartitionMapComplete is set: $(condition events PartitionMapComplete message)"
if grep -q 'cannot write partition map\|partition map too large' "$WORK/operator-main.log"; then
  fail "the operator could not write the map: $(grep 'partition map' "$WORK/operator-main.log" | head -2)"
fi
pass
