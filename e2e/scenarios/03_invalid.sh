#!/usr/bin/env bash
# Invalid input: the API server rejects what the schema can judge; the operator reports what
# needs the database (a table that is not partitioned) with a Warning event and zero DDL.
source "$(dirname "$0")/../lib.sh"
setup
psql_db -c "CREATE TABLE plain (id int)"
create_secret
reset_ddl_log
if policy bad public.events "  premake: 0" 2>"$WORK/rejected"; then fail "premake 0 accepted by the API server"; fi
grep -q "premake" "$WORK/rejected" || fail "rejection does not name the field: $(cat "$WORK/rejected")"
if policy evil "events; DROP TABLE plain" 2>/dev/null; then fail "hostile table name accepted"; fi
policy plain plain
start_operator main
wait_until 30 "reason TableNotPartitioned" reason_is plain TableNotPartitioned
assert_eq "$(condition plain Ready)" False "Ready"
assert_eq "$(condition plain Stalled)" True "Stalled"
wait_until 10 "Warning event" has_event TableNotPartitioned plain
grep -q Warning <<<"$(k get events --field-selector involvedObject.name=plain -o jsonpath='{.items[*].type}')" || fail "event not Warning"
assert_eq "$(ddl_count)" 0 "DDL"
pass
