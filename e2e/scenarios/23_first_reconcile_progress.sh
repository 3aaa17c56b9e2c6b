#!/usr/bin/env bash
# A long first reconcile (a DEFAULT drain of 300 cells) shows its progress in .status while it
# runs — Ready=False reason InProgress, Reconciling=True, the pending count going down and the
# partition count going up slice by slice (5 s each) — instead of an empty status until the end;
# then Ready, with every row kept. No Warning Event for progress.
source "$(dirname "$0")/../lib.sh"
setup
default_backlog 300 2000
create_secret
policy events events
start_operator main
wait_until 30 "status says InProgress" reason_is events InProgress
assert_eq "$(condition events Reconciling)" True "Reconciling"
pending() { k get ppol events -o jsonpath='{.status.actionsPendingCount}'; }
count() { k get ppol events -o jsonpath='{.status.partitionCount}'; }
first_pending=$(pending)
first_count=$(count)
log "first slice: $first_count partitions, $first_pending action(s) pending"
[ "${first_pending:-0}" -gt 0 ] || fail "no pending count in the InProgress status"
progressed() { reason_is events Reconciled || { [ "$(pending)" -lt "$first_pending" ] && [ "$(count)" -gt "$first_count" ]; }; }
wait_until 30 "a later slice shows progress" progressed
log "later: $(count) partitions, $(pending) pending"
wait_until 240 "Ready at the end of the drain" reason_is events Reconciled
assert_eq "$(partition_count events)" 305 "partitions (300 drained cells, today, 3 ahead and DEFAULT)"
assert_eq "$(psql_db -c 'SELECT count(*) FROM events_default')" 0 "rows left in DEFAULT"
assert_eq "$(psql_db -c 'SELECT count(*) FROM events')" 600000 "rows"
if has_event InProgress events; then fail "a Warning Event for progress"; fi
pass
