#!/usr/bin/env bash
# Deleting a policy stops its in-flight work at the next step boundary: a DEFAULT drain of many
# cells does not run on to its end after the object is gone, and the operator logs one line
# saying it stopped — no status write to a missing object, no warning, no Event afterwards.
source "$(dirname "$0")/../lib.sh"
setup
default_backlog 300 2000
create_secret
policy events events
start_operator main
drained() { [ "$(partition_count events)" -ge "$1" ]; }
wait_until 60 "the drain has begun" drained 6
k delete ppol events >/dev/null
deleted_at=$(partition_count events)
wait_until 10 "the operator says it stopped" grep -q '"msg":"stopped at a step boundary"' "$WORK/operator-main.log"
line=$(grep '"msg":"stopped at a step boundary"' "$WORK/operator-main.log")
grep -q '"why":"object deleted"' <<<"$line" || fail "the stop line does not say why: $line"
stopped_at=$(partition_count events)
sleep 3
after=$(partition_count events)
log "partitions: $deleted_at at the delete, $stopped_at when stopped, $after 3 s later (301 for a full drain)"
assert_eq "$after" "$stopped_at" "partitions after the stop"
[ "$after" -le $((deleted_at + 1)) ] || fail "the drain went on after the delete: $deleted_at -> $after"
assert_eq "$(grep -c '"msg":"stopped at a step boundary"' "$WORK/operator-main.log")" 1 "stop lines"
after_stop=$(sed -n '/"msg":"stopped at a step boundary"/,$p' "$WORK/operator-main.log" | tail -n +2)
[ -z "$after_stop" ] || fail "the operator logged after the stop: $after_stop"
# The rows are where the last committed step left them: none lost.
assert_eq "$(psql_db -c 'SELECT count(*) FROM events')" 600000 "rows"
pass
