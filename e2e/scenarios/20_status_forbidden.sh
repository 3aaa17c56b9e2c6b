#!/usr/bin/env bash
# RBAC drift: the operator's role loses patch on partitionpolicies/status. The failed status write
# is an error — logged at error level, counted in partop_reconcile_errors_total{reason=
# "StatusWriteFailed"}, retried on the error backoff (not the 10-minute resync) — and a Warning
# Event names the missing permission. When the permission comes back, the status is written.
source "$(dirname "$0")/../lib.sh"
setup
psql_db -c "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
create_secret
policy events events
rules() {  # rules WITH_STATUS: the chart's namespaced rules, with or without the status rule
  cat <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: limited}
rules:
  - {apiGroups: [partop.dev], resources: [partitionpolicies, partitionmigrations, partitionbackfills], verbs: [get, list, watch]}
  - {apiGroups: [""], resources: [secrets], verbs: [get, list, watch]}
  - {apiGroups: [""], resources: [events], verbs: [create, patch]}
  - {apiGroups: [""], resources: [configmaps], verbs: [get, create, patch, update]}
YAML
  [ "$1" = yes ] && echo "  - {apiGroups: [partop.dev], resources: [partitionpolicies/status], verbs: [get, patch, update]}"
  return 0
}
k create serviceaccount limited >/dev/null
rules no | k apply -f - >/dev/null
k create rolebinding limited --role=limited --serviceaccount="$NS:limited" >/dev/null
token=$(k create token limited --duration=1h)
cp "$KUBECONFIG" "$WORK/sa-kubeconfig"
kubectl --kubeconfig "$WORK/sa-kubeconfig" config set-credentials limited --token="$token" >/dev/null
kubectl --kubeconfig "$WORK/sa-kubeconfig" config set-context --current --user=limited >/dev/null
KUBECONFIG="$WORK/sa-kubeconfig" start_operator main

wait_until 20 "a StatusWriteFailed Event" has_event StatusWriteFailed events
message=$(k get events --field-selector reason=StatusWriteFailed,involvedObject.name=events -o jsonpath='{.items[0].message}')
grep -q 'patch verb on partitionpolicies/status' <<<"$message" || fail "the Event does not name the permission: $message"
assert_eq "$(k get ppol events -o jsonpath='{.status}')" "" "status (it cannot have been written)"
errors() { grep -c '"level":"error","msg":"cannot write status"' "$WORK/operator-main.log" || true; }
[ "$(errors)" -ge 1 ] || fail "no error-level log line: $(grep 'cannot write status' "$WORK/operator-main.log" | head -2)"
grep '"msg":"cannot write status"' "$WORK/operator-main.log" | head -1 | grep -q '"status":403' || fail "the log line has no HTTP status"
wait_until 15 "the write is retried on the backoff" bash -c "[ \$(grep -c 'cannot write status' '$WORK/operator-main.log') -ge 3 ]"
counted=$(metric main 'partop_reconcile_errors_total{controller="partitionpolicy",reason="StatusWriteFailed"}')
[ "${counted%.*}" -ge 3 ] || fail "partop_reconcile_errors_total{reason=StatusWriteFailed} is $counted"
assert_eq "$(partition_count events)" 5 "partitions (the database work itself was done)"

# The permission comes back: the next retry writes the status.
rules yes | k apply -f - >/dev/null
wait_until 45 "Ready once the status can be written" reason_is events Reconciled
pass
