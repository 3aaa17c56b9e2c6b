#!/usr/bin/env bash
# The API server restarted under a running operator, and the operator killed with SIGKILL in the
# middle of a DEFAULT drain: a new operator converges and no row is lost or duplicated.
source "$(dirname "$0")/../lib.sh"
setup
psql_db <<'SQL'
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, created_at timestamptz NOT NULL, payload text)
  PARTITION BY RANGE (created_at);
CREATE TABLE events_default PARTITION OF events DEFAULT;
INSERT INTO events (created_at, payload)
  SELECT now() - interval '20 days' + i * interval '6 seconds', 'seed' FROM generate_series(1, 300000) i;
SQL
checksum() { psql_db -c "SELECT count(*) || ':' || sum(hashtext(id::text || created_at::text)) FROM events"; }
before=$(checksum)
create_secret
start_operator first
policy events events
sleep 1.5
kill -KILL "$(operator_pid first)"
log "killed the operator mid-run; DEFAULT now holds $(psql_db -c 'SELECT count(*) FROM ONLY events_default') rows"
assert_eq "$(checksum)" "$before" "rows after SIGKILL"
bash "$E2E_ROOT/e2e/control-plane.sh" restart-apiserver "$E2E_STATE/cp" >/dev/null
start_operator second
sleep 2
bash "$E2E_ROOT/e2e/control-plane.sh" restart-apiserver "$E2E_STATE/cp" >/dev/null
k wait --for=condition=Ready ppol/events --timeout=120s >/dev/null || fail "not Ready after restarts"
assert_eq "$(checksum)" "$before" "rows after convergence"
assert_eq "$(psql_db -c 'SELECT count(*) FROM ONLY events_default')" 0 "rows left in DEFAULT"
# The restarted API server is watched again: a spec edit still converges.
k patch ppol events --type merge -p '{"spec":{"premake":5}}' >/dev/null
wait_until 30 "observedGeneration 2" bash -c "[ \"\$(kubectl --kubeconfig $KUBECONFIG -n $NS get ppol events -o jsonpath='{.status.observedGeneration}')\" = 2 ]"
pass
