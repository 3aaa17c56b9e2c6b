#!/usr/bin/env bash
# Two operators with --leader-elect: exactly one reconciles; when it stops (SIGTERM releases the
# Lease) the other takes over at once; when the new leader is SIGKILLed, a third takes over
# within the lease duration.
source "$(dirname "$0")/../lib.sh"
setup
psql_db -c "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
create_secret
election=(--leader-elect --leader-election-namespace "$NS")
start_operator a "${election[@]}"
start_operator b "${election[@]}"
policy events events
k wait --for=condition=Ready ppol/events --timeout=60s >/dev/null || fail "not Ready"
holder=$(k get lease partop-leader -o jsonpath='{.spec.holderIdentity}')
[ -n "$holder" ] || fail "no Lease holder"
processes_logging() { grep -l "$1" "$WORK"/operator-a.log "$WORK"/operator-b.log | wc -l || true; }
wait_until 10 "a reconcile is logged" grep -q '"msg":"reconciled"' "$WORK"/operator-a.log "$WORK"/operator-b.log
sleep 2  # give a second reconciler, if there were one, time to show itself
assert_eq "$(processes_logging '"became leader"')" 1 "processes that became leader"
assert_eq "$(processes_logging '"msg":"reconciled"')" 1 "processes that reconciled"
leader=a
grep -q '"became leader"' "$WORK/operator-b.log" && leader=b
standby=$([ $leader = a ] && echo b || echo a)
log "leader is $leader ($holder)"
kill -TERM "$(operator_pid $leader)"
started=$SECONDS
wait_until 10 "standby $standby takes over" grep -q '"became leader"' "$WORK/operator-$standby.log"
log "takeover after SIGTERM: $((SECONDS - started)) s"
k patch ppol events --type merge -p '{"spec":{"premake":4}}' >/dev/null
wait_until 30 "new leader converges the edit" bash -c "[ \"\$(kubectl --kubeconfig $KUBECONFIG -n $NS get ppol events -o jsonpath='{.status.observedGeneration}')\" = 2 ]"
start_operator c "${election[@]}"
sleep 2
kill -KILL "$(operator_pid $standby)"
started=$SECONDS
wait_until 25 "operator c takes over after SIGKILL" grep -q '"became leader"' "$WORK/operator-c.log"
log "takeover after SIGKILL: $((SECONDS - started)) s"
pass
