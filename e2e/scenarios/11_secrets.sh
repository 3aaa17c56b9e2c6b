#!/usr/bin/env bash
# A password-bearing DSN never shows up: not in the operator's log lines, not in any status
# field, not in Events — neither when the database answers nor when it cannot be reached.
source "$(dirname "$0")/../lib.sh"
setup
psql_db -c "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
password="Pa55-$(date +%s)-secret"
k create secret generic db --from-literal=uri="postgresql://postgres:$password@127.0.0.1:$PGPORT/$DB" >/dev/null
k create secret generic unreachable --from-literal=uri="postgresql://partop:$password@127.0.0.1:1/$DB" >/dev/null
policy events events
k apply -f - >/dev/null <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata: {name: offline}
spec: {table: other, interval: daily, databaseRef: {secretName: unreachable}}
YAML
start_operator main
k wait --for=condition=Ready ppol/events --timeout=60s >/dev/null || fail "not Ready with a password DSN"
wait_until 30 "offline reports DatabaseUnavailable" reason_is offline DatabaseUnavailable
wait_until 10 "DatabaseUnavailable event" has_event DatabaseUnavailable offline
sleep 1
for where in "operator log:$(cat "$WORK/operator-main.log")" \
             "status:$(k get ppol -o json | jq -c '[.items[].status]' 2>/dev/null || k get ppol -o yaml)" \
             "events:$(k get events -o yaml)" "configmaps:$(k get configmap -o yaml)"; do
  if grep -qF "$password" <<<"$where"; then fail "the password appears in ${where%%:*}"; fi
done
grep -q 'DatabaseUnavailable' "$WORK/operator-main.log" || fail "the unreachable database was not reported in the log"
pass
