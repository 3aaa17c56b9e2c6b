#!/usr/bin/env bash
# `kubectl explain` against the real API server shows a description for every field of every
# partop kind: each object in each CRD's schema (spec, status and their nested objects, array
# items included) is explained, and no field, nor the object itself, says <empty>.
source "$(dirname "$0")/../lib.sh"
setup
kubectl --kubeconfig "$KUBECONFIG" apply -f "$E2E_ROOT/crds/" >/dev/null
checked=0
for crd in partitionpolicies.partop.dev partitionmigrations.partop.dev partitionbackfills.partop.dev; do
  resource=${crd%%.*}
  # The paths of every object-typed field, from the schema the API server serves.
  paths=$(kubectl --kubeconfig "$KUBECONFIG" get crd "$crd" -o json | python3 -c '
import json, sys
schema = json.load(sys.stdin)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
def walk(node, path):
    if node.get("type") == "array":
        node = node.get("items", {})
    if "properties" not in node:
        return
    print(path)
    for name, child in node["properties"].items():
        if name not in ("metadata", "apiVersion", "kind"):
            walk(child, f"{path}.{name}")
walk(schema, "")')
  for path in $paths; do
    out=$(kubectl --kubeconfig "$KUBECONFIG" explain "$resource$path")
    if grep -q '<empty>' <<<"$out"; then
      fail "kubectl explain $resource$path has fields without a description: $(grep -B1 '<empty>' <<<"$out" | head -6)"
    fi
    checked=$((checked + 1))
  done
done
log "explained $checked objects, every field described"
pass
