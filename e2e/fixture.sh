#!/usr/bin/env bash
# The end-to-end environment: a real kube-apiserver + etcd (control-plane.sh), a PostgreSQL 15
# primary with a streaming replica (tests/postgres.sh), and the PartitionPolicy CRD installed.
#
#   e2e/fixture.sh up STATE     writes STATE/env (KUBECONFIG, PATH with kubectl/helm, DSNs)
#   e2e/fixture.sh down STATE
#
# The real-cluster environment: a single-node cluster (cluster.sh) whose pods run, and a
# PostgreSQL 15 that listens on the node's address for them (password logins from pods only).
# No CRDs: the chart under test installs them.
#   e2e/fixture.sh up-cluster STATE     writes STATE/env (as above, plus NODE_ADDRESS, CLUSTER_DIR)
#   e2e/fixture.sh down-cluster STATE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

cmd=${1:?usage: fixture.sh up|down|up-cluster|down-cluster STATE}
state=${2:?usage: fixture.sh up|down|up-cluster|down-cluster STATE}

case $cmd in
  up)
    mkdir -p "$state"
    bash "$here/control-plane.sh" up "$state/cp" >/dev/null
    "$root/tests/postgres.sh" start "$state/pg" >/dev/null
    "$root/tests/postgres.sh" start-replica "$state/pg" >/dev/null
    # shellcheck disable=SC1091
    source "$state/cp/env"
    {
      cat "$state/cp/env"
      sed 's/^/export /' "$state/pg/env"
      echo "export PATH=\"$PARTOP_KUBE_BIN:\$PATH\""
    } > "$state/env"
    "$PARTOP_KUBE_BIN/kubectl" --kubeconfig "$KUBECONFIG" apply -f "$root/crds/" >/dev/null
    # kubectl wait errors out (instead of waiting) on a CRD whose status has no conditions yet,
    # as a just-created one may: retry until all are established.
    established=false
    for _ in $(seq 1 60); do
      if "$PARTOP_KUBE_BIN/kubectl" --kubeconfig "$KUBECONFIG" wait --for condition=established \
        crd/partitionpolicies.partop.dev crd/partitionmigrations.partop.dev \
        crd/partitionbackfills.partop.dev --timeout=30s >/dev/null 2>&1; then
        established=true
        break
      fi
      sleep 1
    done
    $established || { echo "fixture: the CRDs were never established" >&2; exit 1; }
    echo "e2e fixture up in $state"
    ;;
  down)
    bash "$here/control-plane.sh" down "$state/cp" >/dev/null 2>&1 || true
    "$root/tests/postgres.sh" stop "$state/pg" >/dev/null 2>&1 || true
    rm -rf "$state"
    ;;
  up-cluster)
    mkdir -p "$state"
    bash "$here/cluster.sh" up "$state/cluster" >/dev/null
    # shellcheck disable=SC1091
    source "$state/cluster/env"
    PARTOP_PG_LISTEN=$NODE_ADDRESS PARTOP_PG_CLIENTS=$POD_CIDR \
      "$root/tests/postgres.sh" start "$state/pg" >/dev/null
    {
      cat "$state/cluster/env"
      sed 's/^/export /' "$state/pg/env"
    } > "$state/env"
    echo "e2e cluster fixture up in $state"
    ;;
  down-cluster)
    bash "$here/cluster.sh" down "$state/cluster" >/dev/null 2>&1 || true
    "$root/tests/postgres.sh" stop "$state/pg" >/dev/null 2>&1 || true
    rm -rf "$state"
    ;;
  *)
    echo "usage: fixture.sh up|down|up-cluster|down-cluster STATE" >&2
    exit 2
    ;;
esac
