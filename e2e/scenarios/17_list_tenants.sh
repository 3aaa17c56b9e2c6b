#!/usr/bin/env bash
# A list policy through the operator: each tenant of a tenants table gets its daily sub-tree,
# .status counts the tenants and how many are Ready, and a tenant added to the table gets its
# tree at the next resync.
source "$(dirname "$0")/../lib.sh"
setup
psql_db <<'SQL'
CREATE TABLE tenants (id text PRIMARY KEY);
INSERT INTO tenants VALUES ('acme'), ('globex'), ('initech');
CREATE TABLE events (tenant_id text NOT NULL, event_ts timestamptz NOT NULL, payload text)
  PARTITION BY LIST (tenant_id);
SQL
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
  schedule: {resyncInterval: 2s}
  databaseRef: {secretName: db}
YAML
start_operator main
wait_until 60 "events is Ready" reason_is events Reconciled
assert_eq "$(k get ppol events -o jsonpath='{.status.tenants.total}/{.status.tenants.ready}')" 3/3 \
  "tenants total/ready"
assert_eq "$(partition_count events)" 4 "tenant partitions and the DEFAULT"
assert_eq "$(partition_count events_globex)" 4 "globex: today, two ahead, DEFAULT"
[ -n "$(k get ppol events -o jsonpath='{.status.bufferedUntil}')" ] || fail "no bufferedUntil"

psql_db -c "INSERT INTO tenants VALUES ('umbrella')"
wait_until 30 "umbrella counted Ready" \
  eval '[ "$(k get ppol events -o jsonpath="{.status.tenants.ready}")" = 4 ]'
assert_eq "$(partition_count events_umbrella)" 4 "umbrella's sub-tree"
psql_db -c "INSERT INTO events VALUES ('umbrella', now(), 'first write')"
assert_eq "$(psql_db -c "SELECT count(*) FROM ONLY events_umbrella_default")" 0 \
  "umbrella's first write is in its day's partition"
pass
