#!/usr/bin/env bash
# Leadership lost in the middle of a long DEFAULT drain (another holder takes the Lease): the
# operator says "lost leadership" naming the holder at its next renewal, stops the drain at the
# next step boundary with one line saying why, writes no status afterwards (no ShuttingDown
# reported for a process that merely lost the lease) and reports partop_leader 0.
source "$(dirname "$0")/../lib.sh"
setup
default_backlog 300 2000
create_secret
policy events events
start_operator main --leader-elect --leader-election-namespace "$NS"
drained() { [ "$(partition_count events)" -ge "$1" ]; }
wait_until 60 "the drain has begun" drained 6
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
k patch lease partop-leader --type merge \
  -p "{\"spec\":{\"holderIdentity\":\"thief\",\"renewTime\":\"$now\",\"leaseDurationSeconds\":600}}" >/dev/null
wait_until 10 "the operator says it lost leadership" grep -q '"msg":"lost leadership"' "$WORK/operator-main.log"
grep '"msg":"lost leadership"' "$WORK/operator-main.log" | grep -q 'held by thief' \
  || fail "the log does not name the new holder: $(grep '"msg":"lost leadership"' "$WORK/operator-main.log")"
wait_until 10 "the drain stops" grep -q '"msg":"stopped at a step boundary"' "$WORK/operator-main.log"
line=$(grep '"msg":"stopped at a step boundary"' "$WORK/operator-main.log")
grep -q '"why":"leadership lost"' <<<"$line" || fail "the stop line does not say why: $line"
stopped_at=$(partition_count events)
version=$(k get ppol events -o jsonpath='{.metadata.resourceVersion}')
sleep 3
assert_eq "$(partition_count events)" "$stopped_at" "partitions after the stop"
[ "$stopped_at" -lt 301 ] || fail "the drain ran to its end"
assert_eq "$(k get ppol events -o jsonpath='{.metadata.resourceVersion}')" "$version" \
  "resourceVersion of the policy (a status written after the lease was lost)"
[ "$(condition events Ready reason)" != ShuttingDown ] || fail "the status says ShuttingDown"
assert_eq "$(metric main 'partop_leader ')" 0 "partop_leader"
assert_eq "$(k get lease partop-leader -o jsonpath='{.spec.holderIdentity}')" thief "Lease holder"
log "drain stopped at $stopped_at of 301 partitions"
pass
