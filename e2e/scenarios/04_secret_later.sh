#!/usr/bin/env bash
# A policy whose Secret is missing reports SecretNotFound; creating the Secret makes it Ready
# without restarting the operator.
source "$(dirname "$0")/../lib.sh"
setup
psql_db -c "CREATE TABLE events (created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)"
policy events events
start_operator main
wait_until 30 "reason SecretNotFound" reason_is events SecretNotFound
wait_until 10 "SecretNotFound event" has_event SecretNotFound events
create_secret
k wait --for=condition=Ready ppol/events --timeout=20s >/dev/null || fail "not Ready after the Secret appeared"
pass
