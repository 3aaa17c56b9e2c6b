#!/usr/bin/env bash
# A role that may not log in is a failure a human must fix: Ready=False and Stalled=True with
# reason AuthenticationFailed, a message without libpq's trailing newline, an Event; the
# unreachable server next to it stays the transient DatabaseUnavailable (Stalled=False); both
# count in partop_reconcile_errors_total with their reason.
source "$(dirname "$0")/../lib.sh"
setup
role="nologin_$DB"
psql_db -c "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
psql_db -c "DROP ROLE IF EXISTS $role" -c "CREATE ROLE $role NOLOGIN"
k create secret generic refused --from-literal=uri="postgresql://$role@127.0.0.1:$PGPORT/$DB" >/dev/null
k create secret generic unreachable --from-literal=uri="postgresql://postgres@127.0.0.1:1/$DB" >/dev/null
k apply -f - >/dev/null <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata: {name: refused}
spec: {table: events, interval: daily, databaseRef: {secretName: refused}}
---
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata: {name: offline}
spec: {table: events, interval: daily, databaseRef: {secretName: unreachable}}
YAML
start_operator main
wait_until 30 "refused reports AuthenticationFailed" reason_is refused AuthenticationFailed
assert_eq "$(condition refused Stalled)" True "Stalled of refused"
assert_eq "$(condition refused Stalled reason)" AuthenticationFailed "Stalled reason of refused"
message=$(k get ppol refused -o json | jq -r '.status.conditions[] | select(.type == "Ready") | .message | @json')
grep -q 'is not permitted to log in' <<<"$message" || fail "message does not say why: $message"
[[ "$message" != *'\n"' ]] || fail "message ends with a newline: $message"
wait_until 10 "AuthenticationFailed event" has_event AuthenticationFailed refused
wait_until 30 "offline reports DatabaseUnavailable" reason_is offline DatabaseUnavailable
assert_eq "$(condition offline Stalled)" False "Stalled of offline"
# Both count as errors, with their reasons.
metrics=$(curl -s "http://127.0.0.1:$(metrics_port main)/metrics")
for reason in AuthenticationFailed DatabaseUnavailable; do
  grep -Eq "^partop_reconcile_errors_total\{controller=\"partitionpolicy\",reason=\"$reason\"\} [1-9]" <<<"$metrics" ||
    fail "no $reason in partop_reconcile_errors_total: $(grep reconcile_errors <<<"$metrics")"
done
psql_db -c "DROP ROLE $role" >/dev/null
pass
