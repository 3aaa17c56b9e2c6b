#!/usr/bin/env bash
# A user's first contact, for real: `helm install` of charts/partop on a single-node cluster
# (e2e/cluster.sh) with the image scripts/image builds from the Dockerfile, two replicas.
# - the pods start, serve their probes and become Ready; one is the leader, one waits;
# - the operator logs in with its mounted service-account token (no kubeconfig) and reconciles a
#   PartitionPolicy against PostgreSQL, reached from the pod over the pod network, to Ready;
# - in the running container: non-root user 65532, read-only root filesystem, no capabilities,
#   no privilege escalation, seccomp on;
# - `kubectl logs` shows JSON lines; /metrics answers on the pod's address;
# - deleting the leader's pod hands the work to the other replica;
# - `helm uninstall` removes the operator and leaves the data, the CRDs and the policy.
source "$(dirname "$0")/../lib.sh"

RELEASE=partop
IMAGE=local/partop:e2e
PASSWORD=$(openssl rand -hex 12)

CRDS=(partitionpolicies.partop.dev partitionmigrations.partop.dev partitionbackfills.partop.dev)
# The chart keeps its CRDs on uninstall: a previous run's would not belong to this release.
kubectl --kubeconfig "$KUBECONFIG" delete crd "${CRDS[@]}" --ignore-not-found >/dev/null
setup
psql_db <<SQL
DROP ROLE IF EXISTS ${DB}_app;
CREATE ROLE ${DB}_app LOGIN PASSWORD '$PASSWORD';
GRANT CREATE ON SCHEMA public TO ${DB}_app;
GRANT INSERT ON partop_test_ddl_log TO ${DB}_app;
CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
ALTER TABLE events OWNER TO ${DB}_app;
SQL
# The operator in the pod reaches PostgreSQL at the node's address, with a password.
k create secret generic db \
  --from-literal=uri="postgresql://${DB}_app:$PASSWORD@$NODE_ADDRESS:$PGPORT/$DB" >/dev/null

log "building the image with scripts/image and importing it into the node"
build_dir=$(cd "$(dirname "$PARTOP")/.." && pwd)
BUILD_DIR=$build_dir "$E2E_ROOT/scripts/image" "$WORK/image.tar" "$IMAGE" 2>"$WORK/image.log" \
  || { cat "$WORK/image.log" >&2; fail "scripts/image failed"; }
"$E2E_ROOT/e2e/cluster.sh" import "$CLUSTER_DIR" "$WORK/image.tar"

log "helm install (2 replicas, namespace $NS)"
helm install "$RELEASE" "$E2E_ROOT/charts/partop" --kubeconfig "$KUBECONFIG" -n "$NS" \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE#*:}" --set image.pullPolicy=Never \
  --set replicaCount=2 --set "watchNamespaces={$NS}" \
  --wait --timeout 180s >"$WORK/helm.log" 2>&1 \
  || { cat "$WORK/helm.log" >&2; k get pods -o wide >&2; k describe pods >&2; fail "helm install did not become ready"; }

pods() { k get pods -l app.kubernetes.io/component=operator -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'; }
ready_pods() {
  k get pods -l app.kubernetes.io/component=operator \
    -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
    | grep -c '=True$'
}
assert_eq "$(ready_pods)" 2 "Ready operator pods"
lease=$RELEASE-leader
# The holder identity is HOSTNAME_PID, and a pod's hostname is its name.
leader() { local h; h=$(k get lease "$lease" -o jsonpath='{.spec.holderIdentity}'); echo "${h%_*}"; }
leader_is_a_pod() { local l; l=$(leader); [ -n "$l" ] && grep -qx "$l" <<<"$(pods)"; }
wait_until 60 "one of the pods holds Lease $lease" leader_is_a_pod
first_leader=$(leader)
log "leader: $first_leader"

log "the pod logs in with its service-account token and reconciles a policy"
policy events public.events
events_ready() { [ "$(condition events Ready)" = True ]; }
wait_until 120 "policy events Ready" events_ready
[ "$(partition_count events)" -ge 4 ] || fail "expected at least 4 partitions, got $(partition_count events)"
owner=$(psql_db -c "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid WHERE i.inhparent = 'events'::regclass")
assert_eq "$owner" "${DB}_app" "owner of the partitions"
for pod in $(pods); do
  args=$(k get pod "$pod" -o jsonpath='{.spec.containers[0].args}')
  [[ $args != *kubeconfig* ]] || fail "pod $pod has a kubeconfig argument: $args"
done

log "the running container's security context"
pod=$first_leader
in_pod() { k exec "$pod" -- "$@"; }
assert_eq "$(in_pod id -u)" 65532 "uid"
assert_eq "$(in_pod id -g)" 65532 "gid"
if in_pod touch /probe 2>"$WORK/touch.err"; then fail "the root filesystem is writable"; fi
grep -q "Read-only file system" "$WORK/touch.err" || fail "touch /probe: $(cat "$WORK/touch.err")"
status=$(in_pod cat /proc/1/status)
for cap in CapInh CapPrm CapEff CapBnd CapAmb; do
  assert_eq "$(awk -v c="$cap:" '$1 == c {print $2}' <<<"$status")" 0000000000000000 "$cap"
done
assert_eq "$(awk '$1 == "NoNewPrivs:" {print $2}' <<<"$status")" 1 "NoNewPrivs"
assert_eq "$(awk '$1 == "Seccomp:" {print $2}' <<<"$status")" 2 "Seccomp (2 = filter)"

log "kubectl logs shows JSON lines; /metrics answers on the pod's address"
k logs "$pod" >"$WORK/pod.log"
[ -s "$WORK/pod.log" ] || fail "kubectl logs $pod is empty"
python3 - "$WORK/pod.log" <<'EOF' || fail "kubectl logs has lines that are not JSON objects"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
for line in lines:
    assert isinstance(json.loads(line), dict), line
EOF
pod_ip=$(k get pod "$pod" -o jsonpath='{.status.podIP}')
metrics=$(curl -sf --max-time 5 "http://$pod_ip:8080/metrics") || fail "no /metrics on $pod_ip:8080"
grep -q '^partop_' <<<"$metrics" || fail "/metrics of $pod has no partop_ series"

log "deleting the leader's pod: the other replica takes over"
k delete pod "$first_leader" --wait=false >/dev/null
new_leader() { local l; l=$(leader); [ -n "$l" ] && [ "$l" != "$first_leader" ]; }
wait_until 90 "another pod holds the Lease" new_leader
log "new leader: $(leader)"
before=$(partition_count events)
k patch ppol events --type merge -p '{"spec":{"premake":6}}' >/dev/null
more_partitions() { [ "$(partition_count events)" -gt "$before" ]; }
wait_until 90 "the new leader makes the new premake" more_partitions
two_ready() { [ "$(ready_pods)" = 2 ]; }
wait_until 120 "2 Ready operator pods again" two_ready
# The liveness probe never failed: no container was restarted.
restarts=$(k get pods -l app.kubernetes.io/component=operator -o jsonpath='{range .items[*]}{.status.containerStatuses[0].restartCount}{"\n"}{end}' | sort -u | paste -sd' ' -)
assert_eq "$restarts" 0 "container restarts"

log "helm uninstall leaves the data"
psql_db -c "INSERT INTO events VALUES (1, now())"
partitions=$(partition_count events)
helm uninstall "$RELEASE" --kubeconfig "$KUBECONFIG" -n "$NS" --wait --timeout 120s >/dev/null
no_pods() { [ -z "$(pods)" ]; }
wait_until 90 "the operator pods are gone" no_pods
assert_eq "$(partition_count events)" "$partitions" "partitions after uninstall"
assert_eq "$(psql_db -c "SELECT count(*) FROM events")" 1 "rows after uninstall"
k get crd "${CRDS[@]}" >/dev/null 2>&1 || fail "helm uninstall removed a CRD"
k get ppol events >/dev/null || fail "helm uninstall removed the PartitionPolicy"
pass
