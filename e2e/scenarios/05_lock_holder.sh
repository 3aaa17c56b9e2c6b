#!/usr/bin/env bash
# A session holding a lock on the parent: LockTimeout event, then Ready once released; an
# inserter never stalls much longer than lockTimeout.
source "$(dirname "$0")/../lib.sh"
setup
psql_db <<'SQL'
CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE TABLE events_today PARTITION OF events
  FOR VALUES FROM (date_trunc('day', now(), 'UTC')) TO (date_trunc('day', now(), 'UTC') + interval '1 day');
SQL
create_secret
echo "INSERT INTO events VALUES (1, date_trunc('day', now(), 'UTC') + interval '1 hour');" > "$WORK/insert.sql"
psql_db -c "SELECT count(*), pg_sleep(12) FROM events" >/dev/null &
holder=$!
sleep 1
(cd "$WORK" && pgbench -n -T 9 -f insert.sql -l --log-prefix=insert "$DB" >/dev/null 2>&1) &
inserter=$!
policy events events "  guards: {lockTimeout: 1s}"
start_operator main
wait_until 20 "LockTimeout event" has_event LockTimeout events
wait "$inserter"
worst=$(cat "$WORK"/insert.* | awk '{ if ($3 > max) max = $3 } END { print int(max / 1000) }')
log "worst insert latency while partop backed off: ${worst} ms"
[ "$worst" -lt 2000 ] || fail "an insert stalled ${worst} ms"
wait "$holder"
k wait --for=condition=Ready ppol/events --timeout=60s >/dev/null || fail "not Ready after the lock was released"
pass
