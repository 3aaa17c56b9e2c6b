# Shared helpers for e2e scenarios. A scenario runs as:
#   e2e/scenarios/NAME.sh STATE PARTOP_BIN
# against the fixture in STATE, in a namespace and a database of its own, with operators it
# starts itself; everything it starts is stopped on exit.
set -euo pipefail

E2E_STATE=${1:?usage: scenario STATE PARTOP_BIN}
PARTOP=${2:?usage: scenario STATE PARTOP_BIN}
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC1091
source "$E2E_STATE/env"
SCENARIO=$(basename "$0" .sh | tr '_' '-')
# Namespaces are never removed on this control plane (no controller-manager): one per run.
NS="e2e-${SCENARIO}-$(date +%s)-$RANDOM"
DB="e2e_$(basename "$0" .sh | tr '-' '_')"
WORK=$(mktemp -d "/tmp/partop-e2e-$SCENARIO-XXXXXX")
OPERATOR_PIDS=()

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$SCENARIO" "$*" >&2; }
fail() {
  log "FAIL: $*"
  for f in "$WORK"/operator-*.log; do
    [ -f "$f" ] && { echo "--- $f (last 30 lines)" >&2; tail -30 "$f" >&2; }
  done
  exit 1
}
k() { kubectl --kubeconfig "$KUBECONFIG" -n "$NS" "$@"; }
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -A -t -d "$DB" "$@"; }
db_dsn() { echo "postgresql://postgres@127.0.0.1:$PGPORT/$DB"; }

cleanup() {
  local pid
  for pid in "${OPERATOR_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${OPERATOR_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${E2E_KEEP:-0}" != 1 ]; then
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# setup: a fresh namespace, database and DDL log (the Secret comes from create_secret).
setup() {
  kubectl --kubeconfig "$KUBECONFIG" create namespace "$NS" >/dev/null
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
  psql_db <<'SQL'
CREATE TABLE partop_test_ddl_log (at timestamptz DEFAULT clock_timestamp(), tag text);
CREATE FUNCTION partop_test_log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO partop_test_ddl_log (tag) VALUES (tg_tag); END $$;
CREATE EVENT TRIGGER partop_test_log_ddl ON ddl_command_end EXECUTE FUNCTION partop_test_log_ddl();
SQL
}
create_secret() { k create secret generic "${1:-db}" --from-literal=uri="$(db_dsn)" >/dev/null; }
ddl_count() { psql_db -c "SELECT count(*) FROM partop_test_ddl_log"; }
reset_ddl_log() { psql_db -c "TRUNCATE partop_test_ddl_log"; }

# start_operator NAME [extra args...]: runs `partop operator` for this namespace in the background.
start_operator() {
  local name=$1 metrics_port health_port
  shift
  metrics_port=$(free_port)
  health_port=$(free_port)
  "$PARTOP" operator --kubeconfig "$KUBECONFIG" --namespace "$NS" \
    --metrics-bind-address "127.0.0.1:$metrics_port" --health-probe-bind-address "127.0.0.1:$health_port" \
    "$@" >>"$WORK/operator-$name.log" 2>&1 &
  OPERATOR_PIDS+=($!)
  eval "OPERATOR_PID_${name//-/_}=$! METRICS_PORT_${name//-/_}=$metrics_port HEALTH_PORT_${name//-/_}=$health_port"
}
operator_pid() { local var="OPERATOR_PID_${1//-/_}"; echo "${!var}"; }
metrics_port() { local var="METRICS_PORT_${1//-/_}"; echo "${!var}"; }
health_port() { local var="HEALTH_PORT_${1//-/_}"; echo "${!var}"; }

# policy NAME TABLE [extra spec lines]: applies a PartitionPolicy using Secret "db".
policy() {
  local name=$1 table=$2 extra=${3:-}
  k apply -f - >/dev/null <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata:
  name: $name
spec:
  table: $table
  interval: daily
  premake: 3
  databaseRef: {secretName: db}
$extra
YAML
}

# default_backlog DAYS ROWS: table events (range on created_at) whose only partition is a DEFAULT
# holding ROWS rows on each of the DAYS days before today: a DEFAULT drain of DAYS cells.
default_backlog() {
  psql_db <<SQL
CREATE TABLE events (id bigint, created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
CREATE TABLE events_default PARTITION OF events DEFAULT;
INSERT INTO events
SELECT g, date_trunc('day', now(), 'UTC') - (1 + g % $1) * interval '1 day' + (g % 86399) * interval '1 second'
FROM generate_series(0, $1 * $2 - 1) g;
SQL
}
# metric NAME PATTERN: the value of the first series of operator NAME matching PATTERN, or 0.
metric() {
  local series
  series=$(curl -s "http://127.0.0.1:$(metrics_port "$1")/metrics")
  awk -v p="$2" 'index($0, p) == 1 { print $NF; found = 1; exit } END { if (!found) print 0 }' <<<"$series"
}

# policy_on_secret NAME TABLE SECRET: a daily PartitionPolicy on the database of Secret SECRET.
policy_on_secret() {
  k apply -f - >/dev/null <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionPolicy
metadata: {name: $1}
spec: {table: $2, interval: daily, databaseRef: {secretName: $3}}
YAML
}

condition() {  # condition POLICY TYPE FIELD
  k get ppol "$1" -o jsonpath="{.status.conditions[?(@.type==\"$2\")].${3:-status}}"
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.5 s.
wait_until() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${seconds}s waiting for: $what"
    sleep 0.5
  done
}

reason_is() { [ "$(condition "$1" Ready reason)" = "$2" ]; }
# Output is captured before grep reads it: `cmd | grep -q` under pipefail fails when grep exits
# early and cmd dies of SIGPIPE (it did, with two matching Events).
has_event() { [ -n "$(k get events --field-selector "reason=$1,involvedObject.name=$2" -o name)" ]; }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }
partition_count() { psql_db -c "SELECT count(*) FROM pg_inherits WHERE inhparent = '$1'::regclass"; }

# The PartitionMigration "orders" of public.orders (monthly, batches of 2,000):
# orders_migration STRATEGY TARGET.
orders_migration() {
  k apply -f - >/dev/null <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionMigration
metadata: {name: orders}
spec:
  table: public.orders
  partitionKey: created_at
  interval: monthly
  strategy: $1
  batchSize: 2000
  target: $2
  acceptPerPartitionUniqueness: [orders_pkey]
  databaseRef: {secretName: db}
YAML
}
migration_phase_is() { [ "$(k get pmig orders -o jsonpath='{.status.phase}')" = "$1" ]; }
orders_relkind() { psql_db -c "SELECT relkind FROM pg_class WHERE oid = 'orders'::regclass"; }

# The application: inserts into orders through its name until stop_writer; any failed insert is
# recorded in $WORK/writer.failed.
start_writer() {
  (
    while true; do
      psql_db -c "INSERT INTO orders (amount) VALUES (1)" || { echo "writer failed" >"$WORK/writer.failed"; exit 1; }
      sleep 0.05
    done
  ) &
  WRITER_PID=$!
}
stop_writer() {
  kill "$WRITER_PID"
  wait "$WRITER_PID" 2>/dev/null || true
  [ ! -e "$WORK/writer.failed" ] || fail "the application's insert failed during the migration"
}

pass() { log "PASS"; }
