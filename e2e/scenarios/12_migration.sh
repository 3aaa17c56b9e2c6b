#!/usr/bin/env bash
# A PartitionMigration applied with kubectl turns a live table into a partitioned one while a
# writer keeps inserting through its name; kubectl get pmig shows target, phase and progress;
# flipping target rolls back and swaps again; describe shows the conditions and phase events.
source "$(dirname "$0")/../lib.sh"
setup
psql_db <<SQL
CREATE TABLE orders (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), amount int);
INSERT INTO orders (created_at, amount)
  SELECT now() - (i % 300) * interval '1 day', i FROM generate_series(1, 60000) i;
ANALYZE orders;
SQL
create_secret
start_writer

orders_migration copy Partitioned
start_operator main
k wait --for=condition=Ready pmig/orders --timeout=180s >/dev/null ||
  fail "never Ready: $(k get pmig orders -o jsonpath='{.status}')"
get=$(k get pmig orders)
grep -q "TABLE.*TARGET.*PHASE.*PROGRESS.*READY" <<<"$get" || fail "printer columns missing: $get"
grep -Eq "public.orders +Partitioned +Swapped +100% +True" <<<"$get" || fail "printer values wrong: $get"
assert_eq "$(orders_relkind)" p "orders after the swap"
[ "$(k get pmig orders -o jsonpath='{.status.rowsCopied}')" -ge 60000 ] || fail "rowsCopied below 60000"
has_event CopyStarted orders || fail "no CopyStarted event"
has_event Swapped orders || fail "no Swapped event"

orders_migration copy Original
wait_until 60 "rolled back" migration_phase_is RolledBack
k wait --for=condition=Ready pmig/orders --timeout=60s >/dev/null || fail "not Ready after rollback"
assert_eq "$(orders_relkind)" r "orders after the rollback"

orders_migration copy Partitioned
wait_until 60 "swapped again" migration_phase_is Swapped
assert_eq "$(orders_relkind)" p "orders after the second swap"
assert_eq "$(k get pmig orders -o jsonpath='{.status.swaps}')" 3 "swaps"

stop_writer
assert_eq "$(psql_db -c "SELECT count(*) FROM ((TABLE orders EXCEPT TABLE orders_retired) UNION ALL (TABLE orders_retired EXCEPT TABLE orders)) d")" 0 \
  "orders and orders_retired differ"
assert_eq "$(psql_db -c "SELECT count(*) - count(DISTINCT id) FROM orders")" 0 "duplicate ids"
describe=$(k describe pmig orders)
grep -Eq "Type: +Ready" <<<"$describe" || fail "no Ready condition in describe: $describe"
grep -q "TargetReached" <<<"$describe" || fail "no TargetReached reason in describe"
pass
