#!/usr/bin/env bash
# A database that goes down while its policies are Ready: the per-database probe (every 2 s here,
# --database-check-interval) notices it and the policies flip to DatabaseUnavailable within a few
# seconds instead of claiming Ready until the 10-minute resync; a policy of another database is not
# disturbed; when the server is back, the policies are Ready again without waiting for a backoff.
source "$(dirname "$0")/../lib.sh"
setup
scratch=$(mktemp -d /tmp/partop-e2e-scratch-pg-XXXXXX)
trap '"$E2E_ROOT/tests/postgres.sh" stop "$scratch" >/dev/null 2>&1 || true; cleanup' EXIT
port=$("$E2E_ROOT/tests/postgres.sh" start "$scratch" | sed -n 's/^PGPORT=//p')
psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
  -c "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
psql_db -c "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
create_secret
k create secret generic scratch --from-literal=uri="postgresql://postgres@127.0.0.1:$port/postgres" >/dev/null
policy other events
policy_on_secret scratch events scratch
start_operator main --database-check-interval 2s
k wait --for=condition=Ready ppol/scratch ppol/other --timeout=60s >/dev/null || fail "not Ready"

"$E2E_ROOT/tests/postgres.sh" pause "$scratch"
stopped=$SECONDS
wait_until 20 "scratch reports DatabaseUnavailable" reason_is scratch DatabaseUnavailable
log "Ready=False $((SECONDS - stopped)) s after the server stopped"
grep -q '"msg":"database unreachable"' "$WORK/operator-main.log" || fail "no log line about the database"
assert_eq "$(condition other Ready)" True "Ready of the policy on the other database"

"$E2E_ROOT/tests/postgres.sh" resume "$scratch"
resumed=$SECONDS
wait_until 20 "scratch Ready again" reason_is scratch Reconciled
log "Ready again $((SECONDS - resumed)) s after the server came back"
pass
