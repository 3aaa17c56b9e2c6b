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
start_writer

orders_migration move Partitioned
start_operator main
k wait --for=condition=Ready pmig/orders --timeout=180s >/dev/null ||
  fail "never Ready: $(k get pmig orders -o jsonpath='{.status}')"
assert_eq "$(k get pmig orders -o jsonpath='{.status.phase}')" Swapped "phase"
assert_eq "$(orders_relkind)" p "orders after the move"
assert_eq "$(psql_db -c "SELECT count(*) FROM orders_retired")" 0 "rows left in orders_retired"

orders_migration move Original
wait_until 120 "moved back" migration_phase_is RolledBack
assert_eq "$(orders_relkind)" r "orders after moving back"
assert_eq "$(psql_db -c "SELECT count(*) FROM orders_partitioned")" 0 "rows left in orders_partitioned"

orders_migration move Partitioned
wait_until 120 "moved again" migration_phase_is Swapped
assert_eq "$(orders_relkind)" p "orders after the second move"

stop_writer
assert_eq "$(psql_db -c "SELECT count(*) - count(DISTINCT id) FROM orders")" 0 "duplicate ids"
[ "$(psql_db -c "SELECT count(*) FROM orders")" -gt 40000 ] || fail "rows missing"
has_event Swapped orders || fail "no Swapped event"
pass
