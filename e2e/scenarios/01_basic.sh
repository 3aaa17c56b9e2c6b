#!/usr/bin/env bash
# Secret + policy applied: partitions exist, kubectl wait passes, get shows the columns,
# describe shows conditions and events, the partition map ConfigMap is owned by the policy.
source "$(dirname "$0")/../lib.sh"
setup
psql_db -c "CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
create_secret
policy events public.events "  indexes: [{name: events_id_idx, columns: [id]}]"
start_operator main
k wait --for=condition=Ready ppol/events --timeout=60s >/dev/null || fail "policy never became Ready"
assert_eq "$(partition_count events)" 5 "partitions (today + 3 ahead + DEFAULT)"
get=$(k get ppol events)
grep -q "TABLE.*INTERVAL.*PARTITIONS.*BUFFERED UNTIL.*DEFAULT ROWS.*READY" <<<"$get" || fail "printer columns missing: $get"
grep -Eq "public.events +daily +4 +[0-9T:-]+Z +0 +True" <<<"$get" || fail "printer values wrong: $get"
grep -q events <<<"$(k get partitionpolicies -o name)" || fail "plural name"
grep -q events <<<"$(kubectl --kubeconfig "$KUBECONFIG" get partop -n "$NS" -o name)" || fail "category partop"
describe=$(k describe ppol events)
grep -q "PartitionsCreated" <<<"$describe" || fail "no PartitionsCreated event in describe: $describe"
grep -Eq "Type: +Ready" <<<"$describe" || fail "no Ready condition in describe"
assert_eq "$(k get ppol events -o jsonpath='{.status.observedGeneration}')" \
  "$(k get ppol events -o jsonpath='{.metadata.generation}')" "observedGeneration"
map=$(k get configmap events-partitions -o jsonpath='{.data.partitions\.json}')
grep -q "events_default" <<<"$map" || fail "partition map: $map"
assert_eq "$(k get configmap events-partitions -o jsonpath='{.metadata.ownerReferences[0].kind}')" PartitionPolicy "owner"
# Probes and metrics.
assert_eq "$(curl -s "http://127.0.0.1:$(health_port main)/healthz")" ok "healthz"
assert_eq "$(curl -s "http://127.0.0.1:$(health_port main)/readyz")" ok "readyz"
metrics=$(curl -s "http://127.0.0.1:$(metrics_port main)/metrics")
# DDL steps, one per partition (and per index, per DEFAULT), though on this table without
# partitions they all committed in one transaction.
for series in 'partop_reconcile_total{result="requeue_after"}' "partop_partitions{namespace=\"$NS\",policy=\"events\"} 4" \
              'partop_default_rows{' 'partop_buffer_seconds{' 'partop_ddl_total{action="create-parent-index"} 1' 'partop_ddl_total{action="create-partition"} 4' \
              'partop_reconcile_duration_seconds_bucket' 'partop_workqueue_depth' 'partop_leader 1'; do
  grep -qF "$series" <<<"$metrics" || fail "metric $series missing from /metrics"
done
# Level-based: no further DDL once Ready.
reset_ddl_log
sleep 3
assert_eq "$(ddl_count)" 0 "DDL after Ready"
# SIGTERM: a clean exit 0 well within 30 s.
started=$SECONDS
kill -TERM "$(operator_pid main)"
wait "$(operator_pid main)" || fail "operator exited $? on SIGTERM"
[ $((SECONDS - started)) -lt 30 ] || fail "shutdown took $((SECONDS - started)) s"
grep -q '"operator stopped"' "$WORK/operator-main.log" || fail "no shutdown log line"
pass
