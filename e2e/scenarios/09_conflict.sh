#!/usr/bin/env bash
# Two policies naming one table of one database: the later one reports Conflict and runs no DDL.
source "$(dirname "$0")/../lib.sh"
setup
psql_db -c "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
create_secret
start_operator main
policy first events
k wait --for=condition=Ready ppol/first --timeout=60s >/dev/null || fail "first not Ready"
sleep 1.1  # a later creationTimestamp
policy second public.events "  premake: 9"
wait_until 30 "second reports Conflict" reason_is second Conflict
wait_until 10 "Conflict event" has_event Conflict second
assert_eq "$(partition_count events)" 5 "partitions (second policy ran no DDL)"
assert_eq "$(condition first Ready)" True "first still Ready"
pass
