#!/usr/bin/env bash
# The chart's alerts fire on the series a running operator really exports: a policy whose database
# is unreachable (PartopReconcileErrors, reason DatabaseUnavailable), policies with 3 days of
# partitions ahead (PartitionBufferLow, under 14 days) and one whose DEFAULT keeps rows with drain
# off (DefaultPartitionNotEmpty). Two scrapes of /metrics become `promtool test rules` input
# (e2e/alerts/scrape_to_test.py), checked against the chart's rendered rules; every partop_ metric
# an alert reads must be in the scrape.
source "$(dirname "$0")/../lib.sh"
setup
psql_db <<'SQL'
CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
CREATE TABLE kept (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
CREATE TABLE kept_default PARTITION OF kept DEFAULT;
INSERT INTO kept VALUES (now() - interval '40 days'), (now() - interval '41 days');
SQL
create_secret
k create secret generic unreachable --from-literal=uri="postgresql://postgres@127.0.0.1:1/$DB" >/dev/null
policy ok events
policy nodrain kept "  defaultPartition: {enabled: true, drain: false}"
policy_on_secret offline events unreachable
start_operator main
wait_until 30 "offline reports DatabaseUnavailable" reason_is offline DatabaseUnavailable
k wait --for=condition=Ready ppol/ok --timeout=60s >/dev/null || fail "ok is not Ready"
scrape() { curl -s "http://127.0.0.1:$(metrics_port main)/metrics"; }
errors() { metric main "partop_reconcile_errors_total{controller=\"partitionpolicy\",reason=\"DatabaseUnavailable\"}"; }
has_default_rows() { [ "$(metric main "partop_default_rows{namespace=\"$NS\",policy=\"nodrain\"}")" = 2 ]; }
wait_until 30 "nodrain's DEFAULT rows are exported" has_default_rows
scrape >"$WORK/first.prom"
before=$(errors)
wait_until 30 "another DatabaseUnavailable error is counted" bash -c "[ \"\$(curl -s http://127.0.0.1:$(metrics_port main)/metrics | grep -F 'reason=\"DatabaseUnavailable\"' | awk '{print \$NF}')\" != '$before' ]"
scrape >"$WORK/second.prom"

mkdir -p "$WORK/alerts"
helm template partop "$E2E_ROOT/charts/partop" --namespace partop-system \
  --set metrics.prometheusRule.enabled=true -s templates/prometheusrule.yaml >"$WORK/prometheusrule.yaml"
"$E2E_ROOT/e2e/alerts/rules_of.py" "$WORK/prometheusrule.yaml" "$WORK/alerts/full.yaml" "$WORK/alerts/rules.yaml"
common='"job": "partop-metrics", "instance": "10.244.0.7:8080", "severity": "warning"'
cat >"$WORK/expected.json" <<JSON
[
  {"eval_time": "12m", "alertname": "PartopReconcileErrors", "exp_alerts": [
    {"exp_labels": {"job": "partop-metrics", "severity": "warning", "namespace": "partop-system",
                    "controller": "partitionpolicy", "reason": "DatabaseUnavailable"}}]},
  {"eval_time": "40m", "alertname": "PartitionBufferLow", "exp_alerts": [
    {"exp_labels": {$common, "namespace": "$NS", "policy": "nodrain"}},
    {"exp_labels": {$common, "namespace": "$NS", "policy": "ok"}}]},
  {"eval_time": "40m", "alertname": "DefaultPartitionNotEmpty", "exp_alerts": [
    {"exp_labels": {$common, "namespace": "$NS", "policy": "nodrain"}}]},
  {"eval_time": "40m", "alertname": "PartopReconcileErrors", "exp_alerts": []}
]
JSON
"$E2E_ROOT/e2e/alerts/scrape_to_test.py" "$WORK/first.prom" "$WORK/second.prom" "$WORK/expected.json" \
  "$WORK/alerts/scraped.test.yaml" "$WORK/alerts/rules.yaml" || fail "the scrape cannot feed the alerts"
promtool test rules "$WORK/alerts/scraped.test.yaml" >"$WORK/promtool.out" 2>&1 \
  || fail "the alerts did not fire as expected on the exported series: $(cat "$WORK/promtool.out")"
pass
