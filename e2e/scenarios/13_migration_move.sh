#!/usr/bin/env bash
# A PartitionMigration with strategy move applied with kubectl: rows move through the routing view
# into the partitioned table while a writer inserts through the table's name; flipping target
# moves them back and forth; the writer never fails and every row ends in exactly one table.
source "$(dirname "$0")/../lib.sh"
setup
psql_db <<SQL
CREATE TABLE orders (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), amount int);
INSERT INTO orders (created_at, amount)
  SELECT now() - (i % 300) * interval '1 day', i FROM generate_series(1, 40000) i;
ANALYZE orders;
SQL
create_secret
migration() {
  k apply -f - >/dev/null <<YAML
apiVersion: partop.dev/v1alpha1
kind: PartitionMigration
metadata: {name: orders}
spec:
  table: public.orders
  partitionKey: created_at
  interval: monthly
  strategy: move
  batchSize: 2000
  target: $1
  acceptPerPartitionUniqueness: [orders_pkey]
  databaseRef: {secretName: db}
YAML
}
phase_is() { [ "$(k get pmig orders -o jsonpath='{.status.phase}')" = "$1" ]; }
relkind() { psql_db -c "SELECT relkind FROM pg_class WHERE oid = 'orders'::regclass"; }

# The application: inserts through the table's name for the whole scenario; any error is fatal.
(
  while true; do
    psql_db -c "INSERT INTO orders (amount) VALUES (1)" || { echo "writer failed" >"$WORK/writer.failed"; exit 1; }
    sleep 0.05
  done
) &
writer=$!

migration Partitioned
start_operator main
k wait --for=condition=Ready pmig/orders --timeout=180s >/dev/null ||
  fail "never Ready: $(k get pmig orders -o jsonpath='{.status}')"
assert_eq "$(k get pmig orders -o jsonpath='{.status.phase}')" Swapped "phase"
assert_eq "$(relkind)" p "orders after the move"
assert_eq "$(psql_db -c "SELECT count(*) FROM orders_retired")" 0 "rows left in orders_retired"

migration Original
wait_until 120 "moved back" phase_is RolledBack
assert_eq "$(relkind)" r "orders after moving back"
assert_eq "$(psql_db -c "SELECT count(*) FROM orders_partitioned")" 0 "rows left in orders_partitioned"

migration Partitioned
wait_until 120 "moved again" phase_is Swapped
assert_eq "$(relkind)" p "orders after the second move"

kill "$writer"
wait "$writer" 2>/dev/null || true
[ ! -e "$WORK/writer.failed" ] || fail "the application's insert failed during the migration"
assert_eq "$(psql_db -c "SELECT count(*) - count(DISTINCT id) FROM orders")" 0 "duplicate ids"
[ "$(psql_db -c "SELECT count(*) FROM orders")" -gt 40000 ] || fail "rows missing"
has_event Swapped orders || fail "no Swapped event"
pass
