#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests and the demo: initdb into a state directory as the
# postgres user, on a free loopback port. Safe to re-run.
#
#   tests/postgres.sh start DIR           primary; writes DIR/env (PARTOP_TEST_DSN, PGPORT, ...)
#   tests/postgres.sh start-replica DIR   streaming replica of DIR's primary; adds
#                                         PARTOP_TEST_REPLICA_DSN to DIR/env
#   tests/postgres.sh start-subscriber DIR  an independent server for logical replication from
#                                         DIR's primary (wal_level = logical); adds
#                                         PARTOP_TEST_SUBSCRIBER_DSN to DIR/env
#   tests/postgres.sh restart DIR         restarts the primary (fast shutdown), same port
#   tests/postgres.sh pause DIR           stops the primary (fast shutdown), keeping its data
#   tests/postgres.sh resume DIR          starts a paused primary again on its port
#   tests/postgres.sh stop DIR            stops them all and removes DIR
#
# PARTOP_PG_LISTEN=ADDRESS also listens on ADDRESS; PARTOP_PG_CLIENTS=CIDR lets clients from
# CIDR in with a password (scram-sha-256), e.g. pods of e2e/cluster.sh. Both at first start only.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

die() { echo "postgres.sh: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

as_postgres() { runuser -u postgres -- "$@"; }

running() { [ -f "$1/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1; }

start_server() {  # data_dir port log
  as_postgres "$PG_BIN/pg_ctl" -D "$1" -l "$3" -w -t 60 -o "-p $2" start >/dev/null \
    || { tail -20 "$3" >&2; die "server in $1 did not start"; }
}

cmd_start() {
  local dir=$1
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 server not found in $PG_BIN (apt-get install postgresql-15)"
  mkdir -p "$dir"
  chown postgres: "$dir"
  chmod 700 "$dir"
  if running "$dir/primary"; then
    cat "$dir/env"
    return
  fi
  if [ ! -f "$dir/primary/PG_VERSION" ]; then
    rm -rf "$dir/primary"
    as_postgres "$PG_BIN/initdb" -D "$dir/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    mkdir -p "$dir/sock" && chown postgres: "$dir/sock"
    cat >> "$dir/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1${PARTOP_PG_LISTEN:+,$PARTOP_PG_LISTEN}'
unix_socket_directories = '$dir/sock'
wal_level = logical
max_wal_senders = 10
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
wal_receiver_status_interval = 1s
hot_standby_feedback = on
log_min_messages = warning
CONF
    echo "host replication all 127.0.0.1/32 trust" >> "$dir/primary/pg_hba.conf"
    if [ -n "${PARTOP_PG_CLIENTS:-}" ]; then
      echo "host all all $PARTOP_PG_CLIENTS scram-sha-256" >> "$dir/primary/pg_hba.conf"
    fi
  fi
  local port
  port=$(free_port)
  start_server "$dir/primary" "$port" "$dir/primary.log"
  cat > "$dir/env" <<ENV
PARTOP_TEST_DSN=postgresql://postgres@127.0.0.1:$port/postgres
PGHOST=127.0.0.1
PGPORT=$port
PGUSER=postgres
ENV
  chmod 644 "$dir/env"
  cat "$dir/env"
}

cmd_start_replica() {
  local dir=$1
  [ -f "$dir/env" ] || die "no primary in $dir: run start first"
  # shellcheck disable=SC1091
  local primary_port
  primary_port=$(sed -n 's/^PGPORT=//p' "$dir/env")
  if running "$dir/replica"; then
    cat "$dir/env"
    return
  fi
  rm -rf "$dir/replica"
  as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/replica" -R -X stream \
    -c fast >/dev/null
  local port
  port=$(free_port)
  start_server "$dir/replica" "$port" "$dir/replica.log"
  sed -i '/^PARTOP_TEST_REPLICA_DSN=/d' "$dir/env"
  echo "PARTOP_TEST_REPLICA_DSN=postgresql://postgres@127.0.0.1:$port/postgres" >> "$dir/env"
  cat "$dir/env"
}

# A second, independent server for logical replication: subscriptions to the primary's
# publications.
cmd_start_subscriber() {
  local dir=$1
  [ -f "$dir/env" ] || die "no primary in $dir: run start first"
  if running "$dir/subscriber"; then
    cat "$dir/env"
    return
  fi
  rm -rf "$dir/subscriber"
  as_postgres "$PG_BIN/initdb" -D "$dir/subscriber" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$dir/subscriber/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
wal_receiver_status_interval = 1s
log_min_messages = warning
CONF
  local port
  port=$(free_port)
  start_server "$dir/subscriber" "$port" "$dir/subscriber.log"
  sed -i '/^PARTOP_TEST_SUBSCRIBER_DSN=/d' "$dir/env"
  echo "PARTOP_TEST_SUBSCRIBER_DSN=postgresql://postgres@127.0.0.1:$port/postgres" >> "$dir/env"
  cat "$dir/env"
}

cmd_restart() {
  local dir=$1
  running "$dir/primary" || die "no running primary in $dir"
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/primary" -m fast -w -t 60 restart >/dev/null
}

cmd_pause() {
  local dir=$1
  running "$dir/primary" || die "no running primary in $dir"
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/primary" -m fast -w -t 60 stop >/dev/null
}

cmd_resume() {
  local dir=$1
  [ -f "$dir/env" ] || die "no primary in $dir: run start first"
  running "$dir/primary" && return
  start_server "$dir/primary" "$(sed -n 's/^PGPORT=//p' "$dir/env")" "$dir/primary.log"
}

cmd_stop() {
  local dir=$1
  for server in subscriber replica primary; do
    if [ -f "$dir/$server/postmaster.pid" ]; then
      as_postgres "$PG_BIN/pg_ctl" -D "$dir/$server" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$dir"
}

[ $# -eq 2 ] || die "usage: $0 start|start-replica|start-subscriber|restart|pause|resume|stop DIR"
case $1 in
  start) cmd_start "$2" ;;
  start-replica) cmd_start_replica "$2" ;;
  start-subscriber) cmd_start_subscriber "$2" ;;
  restart) cmd_restart "$2" ;;
  pause) cmd_pause "$2" ;;
  resume) cmd_resume "$2" ;;
  stop) cmd_stop "$2" ;;
  *) die "unknown command $1" ;;
esac
