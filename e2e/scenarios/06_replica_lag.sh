#!/usr/bin/env bash
# Replay paused on the standby: ReplicationLagHigh and no DDL; resumed: Ready.
source "$(dirname "$0")/../lib.sh"
setup
psql_db -c "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
create_secret
replica_port=${PARTOP_TEST_REPLICA_DSN##*:}
replica_port=${replica_port%%/*}
psql -X -q -h 127.0.0.1 -p "$replica_port" -d postgres -c "SELECT pg_wal_replay_pause()" >/dev/null
trap 'psql -X -q -h 127.0.0.1 -p "$replica_port" -d postgres -c "SELECT pg_wal_replay_resume()" >/dev/null 2>&1; cleanup' EXIT
psql_db -c "CREATE TABLE filler AS SELECT i, repeat('x', 200) AS pad FROM generate_series(1, 150000) i"
reset_ddl_log
policy events events "  guards: {maxReplicationLag: 2s}"
start_operator main
wait_until 30 "reason ReplicationLagHigh" reason_is events ReplicationLagHigh
wait_until 10 "ReplicationLagHigh event" has_event ReplicationLagHigh events
assert_eq "$(ddl_count)" 0 "DDL while lagging"
psql -X -q -h 127.0.0.1 -p "$replica_port" -d postgres -c "SELECT pg_wal_replay_resume()" >/dev/null
k wait --for=condition=Ready ppol/events --timeout=90s >/dev/null || fail "not Ready after replay resumed"
pass
