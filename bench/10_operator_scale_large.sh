#!/usr/bin/env bash
# Case 10 — case 5 at 10,000 PartitionPolicies over 100 databases (real PostgreSQL databases on
# the e2e fixture's server): time to Ready, RSS, CPU, connections; and its idle footprint (10b).
# Sourced, not run, so that its results are this case's (bench/lib.sh names them after $0).
BENCH_SCALE_CASE=10
source "$(dirname "$0")/05_operator_scale.sh"
