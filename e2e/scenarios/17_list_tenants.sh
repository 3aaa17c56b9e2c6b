#!/usr/bin/env bash
# A list policy through the operator: each tenant of a tenants table gets its daily sub-tree,
# .status counts the tenants and how many are Ready, and a tenant added to the table gets its
# tree at once — the README's trigger notifies, the operator LISTENs (the resync is 10 minutes).
source "$(dirname "$0")/../lib.sh"
setup
psql_db <<'SQL'
CREATE TABLE tenants (id text PRIMARY KEY);
INSERT INTO tenants VALUES ('acme'), ('globex'), ('initech');
CREATE TABLE events (tenant_id text NOT NULL, event_ts timestamptz NOT NULL, payload text)
  PARTITION BY LIST (tenant_id);
SQL
psql_db -f "$E2E_ROOT/examples/list-values-trigger.sql"   # the README's trigger
create_secret
k apply -f - >/dev/null <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata: {name: events}
spec:
  table: events
  list: {column: tenant_id, valuesFrom: {table: tenants, column: id}}
  timeKey: event_ts
  interval: daily
  premake: 2
  schedule: {resyncInterval: 10m}
  databaseRef: {secretName: db}
YAML
start_operator main
wait_until 60 "events is Ready" reason_is events Reconciled
assert_eq "$(k get ppol events -o jsonpath='{.status.tenants.total}/{.status.tenants.ready}')" 3/3 \
  "tenants total/ready"
assert_eq "$(partition_count events)" 4 "tenant partitions and the DEFAULT"
assert_eq "$(partition_count events_globex)" 4 "globex: today, two ahead, DEFAULT"
[ -n "$(k get ppol events -o jsonpath='{.status.bufferedUntil}')" ] || fail "no bufferedUntil"

listening() {
  [ "$(psql_db -c "SELECT count(*) FROM pg_stat_activity
                   WHERE application_name = 'partop-listener' AND datname = current_database()")" = 1 ]
}
tenants_ready() { [ "$(k get ppol events -o jsonpath='{.status.tenants.ready}')" = "$1" ]; }
# The listener connects once the policy and its Secret are known.
wait_until 30 "the operator listens" listening
started=$SECONDS
psql_db -c "INSERT INTO tenants VALUES ('umbrella')"
wait_until 15 "umbrella counted Ready" tenants_ready 4
log "umbrella's tree in $((SECONDS - started)) s after its row, with a 10m resync"
assert_eq "$(partition_count events_umbrella)" 4 "umbrella's sub-tree"
[ -n "$(k get ppol events -o jsonpath='{.status.tenants.lastCreationSeconds}')" ] \
  || fail "no tenants.lastCreationSeconds"
metrics=$(curl -s "http://127.0.0.1:$(metrics_port main)/metrics")
grep -q "^partop_tenants{namespace=\"$NS\",policy=\"events\"} 4$" <<<"$metrics" \
  || fail "partop_tenants: $(grep '^partop_tenants' <<<"$metrics")"
grep -q "^partop_tenants_not_ready{namespace=\"$NS\",policy=\"events\"} 0$" <<<"$metrics" \
  || fail "partop_tenants_not_ready: $(grep '^partop_tenants_not_ready' <<<"$metrics")"
psql_db -c "INSERT INTO events VALUES ('umbrella', now(), 'first write')"
assert_eq "$(psql_db -c "SELECT count(*) FROM ONLY events_umbrella_default")" 0 \
  "umbrella's first write is in its day's partition"
pass
