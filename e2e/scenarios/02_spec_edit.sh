#!/usr/bin/env bash
# Editing the spec converges the table; observedGeneration follows metadata.generation.
source "$(dirname "$0")/../lib.sh"
setup
psql_db -c "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
create_secret
policy events events
start_operator main
k wait --for=condition=Ready ppol/events --timeout=60s >/dev/null || fail "not Ready"
assert_eq "$(partition_count events)" 5 "partitions before"
k patch ppol events --type merge -p '{"spec":{"premake":10}}' >/dev/null
generation=$(k get ppol events -o jsonpath='{.metadata.generation}')
assert_eq "$generation" 2 "generation after edit"
wait_until 30 "observedGeneration 2" bash -c "[ \"\$(kubectl --kubeconfig $KUBECONFIG -n $NS get ppol events -o jsonpath='{.status.observedGeneration}')\" = 2 ]"
k wait --for=condition=Ready ppol/events --timeout=30s >/dev/null || fail "not Ready after edit"
assert_eq "$(partition_count events)" 12 "partitions after premake 10"
assert_eq "$(condition events Ready observedGeneration)" 2 "Ready.observedGeneration"
pass
