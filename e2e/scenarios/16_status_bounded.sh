#!/usr/bin/env bash
# A plan of many steps keeps .status small: the first ten actions pending are listed, the count
# says how many there are, and `partop plan` (not the object) prints them all.
source "$(dirname "$0")/../lib.sh"
setup
psql_db -c "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
create_secret
k apply -f - >/dev/null <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata: {name: events}
spec:
  table: events
  interval: daily
  premake: 1000
  suspend: true
  databaseRef: {secretName: db}
YAML
start_operator main
wait_until 30 "events reports Suspended" reason_is events Suspended
# A table without partitions: DEFAULT and the first sixteen of the 1001 cells in one transaction,
# then the other 985 sixteen to a transaction: 63 steps.
assert_eq "$(k get ppol events -o jsonpath='{.status.actionsPendingCount}')" 63 "actionsPendingCount"
assert_eq "$(k get ppol events -o json | jq '.status.actionsPending | length')" 11 "actions listed"
last=$(k get ppol events -o json | jq -r '.status.actionsPending[-1]')
grep -q '^\.\.\. and 53 more' <<<"$last" || fail "no line saying how many more: $last"
size=$(k get ppol events -o json | wc -c)
[ "$size" -lt 8000 ] || fail "the object is $size bytes"
pass
