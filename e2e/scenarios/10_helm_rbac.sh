#!/usr/bin/env bash
# The Helm chart installed into the real API server (namespaced mode), then `partop operator`
# run with a token of the chart's own ServiceAccount: the chart's RBAC is enough for every
# operator path (watch, status, events, ConfigMap, Secret, Lease), `kubectl auth can-i` shows it
# grants what the operator needs on PartitionPolicies and PartitionMigrations and nothing more,
# and `helm upgrade` of a policy in values converges the database.
source "$(dirname "$0")/../lib.sh"
setup
psql_db -c "CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
create_secret
release_ns="$NS-sys"
other_ns="$NS-other"
kubectl --kubeconfig "$KUBECONFIG" create namespace "$release_ns" >/dev/null
kubectl --kubeconfig "$KUBECONFIG" create namespace "$other_ns" >/dev/null
kubectl --kubeconfig "$KUBECONFIG" -n "$other_ns" create secret generic db --from-literal=uri=x >/dev/null

values() {  # values PREMAKE: chart values with one policy
  cat <<YAML
watchNamespaces: [$NS]
crds: {install: false}
policies:
  - name: events
    namespace: $NS
    spec:
      table: public.events
      interval: daily
      premake: $1
      databaseRef: {secretName: db}
YAML
}
chart() { helm --kubeconfig "$KUBECONFIG" "$@"; }
values 2 > "$WORK/values.yaml"
chart install partop "$E2E_ROOT/charts/partop" -n "$release_ns" -f "$WORK/values.yaml" >/dev/null \
  || fail "helm install failed"

sa="system:serviceaccount:$release_ns:partop"
can() { kubectl --kubeconfig "$KUBECONFIG" auth can-i "$@" --as "$sa" >/dev/null 2>&1; }
for allowed in "list partitionpolicies.partop.dev -n $NS" "watch partitionpolicies.partop.dev -n $NS" \
               "patch partitionpolicies.partop.dev --subresource=status -n $NS" \
               "list partitionmigrations.partop.dev -n $NS" "watch partitionmigrations.partop.dev -n $NS" \
               "patch partitionmigrations.partop.dev --subresource=status -n $NS" \
               "list partitionbackfills.partop.dev -n $NS" "watch partitionbackfills.partop.dev -n $NS" \
               "patch partitionbackfills.partop.dev --subresource=status -n $NS" "create events -n $NS" "patch events -n $NS" \
               "get secrets -n $NS" "watch secrets -n $NS" "get configmaps -n $NS" "create configmaps -n $NS" "patch configmaps -n $NS" \
               "create leases.coordination.k8s.io -n $release_ns" \
               "update leases.coordination.k8s.io/partop-leader -n $release_ns"; do
  # shellcheck disable=SC2086
  can $allowed || fail "the chart's ServiceAccount cannot: $allowed"
done
for denied in "delete secrets -n $NS" "create secrets -n $NS" "list secrets -n $other_ns" \
              "get secrets -n $release_ns" "list partitionpolicies.partop.dev -n $other_ns" \
              "delete partitionpolicies.partop.dev -n $NS" "update partitionpolicies.partop.dev -n $NS" \
              "list partitionmigrations.partop.dev -n $other_ns" \
              "delete partitionmigrations.partop.dev -n $NS" "update partitionmigrations.partop.dev -n $NS" \
              "delete partitionbackfills.partop.dev -n $NS" "list partitionbackfills.partop.dev -n $other_ns" \
              "delete configmaps -n $NS" "list configmaps -n $NS" "list pods -n $NS" "create deployments -n $NS" \
              "update leases.coordination.k8s.io/someone-else -n $release_ns" "create leases.coordination.k8s.io -n $NS" \
              "list namespaces" "create clusterroles"; do
  # shellcheck disable=SC2086
  if can $denied; then fail "the chart's ServiceAccount can, but should not: $denied"; fi
done

# The operator with the ServiceAccount's token instead of the admin token.
token=$(kubectl --kubeconfig "$KUBECONFIG" -n "$release_ns" create token partop --duration=1h)
cp "$KUBECONFIG" "$WORK/sa-kubeconfig"
kubectl --kubeconfig "$WORK/sa-kubeconfig" config set-credentials partop-sa --token="$token" >/dev/null
kubectl --kubeconfig "$WORK/sa-kubeconfig" config set-context --current --user=partop-sa >/dev/null
KUBECONFIG="$WORK/sa-kubeconfig" start_operator sa --leader-elect --leader-election-namespace "$release_ns" \
  --leader-election-id partop-leader
k wait --for=condition=Ready ppol/events --timeout=60s >/dev/null || fail "policy from values never became Ready"
assert_eq "$(partition_count events)" 4 "partitions (today + 2 ahead + DEFAULT)"
wait_until 10 "PartitionsCreated event" has_event PartitionsCreated events
k get configmap events-partitions >/dev/null || fail "partition map ConfigMap missing"
assert_eq "$(kubectl --kubeconfig "$KUBECONFIG" -n "$release_ns" get lease partop-leader -o jsonpath='{.spec.holderIdentity}' | grep -c .)" 1 "Lease holder"
if grep -q '"status":403' "$WORK/operator-sa.log"; then fail "the operator was denied something: $(grep '"status":403' "$WORK/operator-sa.log" | head -3)"; fi

# helm upgrade edits the policy: the operator converges and observedGeneration follows.
values 6 > "$WORK/values.yaml"
chart upgrade partop "$E2E_ROOT/charts/partop" -n "$release_ns" -f "$WORK/values.yaml" >/dev/null || fail "helm upgrade failed"
wait_until 30 "observedGeneration 2" bash -c "[ \"\$(kubectl --kubeconfig $KUBECONFIG -n $NS get ppol events -o jsonpath='{.status.observedGeneration}')\" = 2 ]"
k wait --for=condition=Ready ppol/events --timeout=30s >/dev/null || fail "not Ready after upgrade"
assert_eq "$(partition_count events)" 8 "partitions after premake 6"
if grep -q '"status":403' "$WORK/operator-sa.log"; then fail "the operator was denied something after the upgrade"; fi

# Uninstall keeps the data and (with crds.install) the CRD; the policy objects go with the release.
chart uninstall partop -n "$release_ns" >/dev/null || fail "helm uninstall failed"
assert_eq "$(partition_count events)" 8 "partitions after uninstall (the data is the user's)"
pass
