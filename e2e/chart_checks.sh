#!/usr/bin/env bash
# Static checks of the Helm chart charts/partop (no cluster needed):
#   - the chart's CRD copies (charts/partop/files/crds/*.yaml) are identical to crds/*.yaml at the
#     root, file by file (PartitionPolicy, PartitionMigration and PartitionBackfill);
#   - `helm lint --strict` passes for every value set below;
#   - `helm template` renders, and the rendered objects are checked (python3 + PyYAML): RBAC is
#     exactly what the operator needs (ClusterRole cluster-wide, or a Role per watched
#     namespace), never delete or "*"; the Deployment runs under the restricted security profile
#     with the expected arguments; leader election; metrics Service, ServiceMonitor and
#     PrometheusRule; PartitionPolicies from values; the three CRDs (partitionpolicies,
#     partitionmigrations, partitionbackfills) each equal their file in crds/, with a description
#     on every field for `kubectl explain` (none with crds.install=false);
#   - invalid values (typos, wrong types, out-of-range numbers) make `helm template` fail;
#   - the pod runs as the Dockerfile's USER.
#
# Usage: e2e/chart_checks.sh        (exit 0 only when every check passed)
# helm comes from ${PARTOP_CACHE:-/var/cache/partop}/bin/helm, installed by
# `e2e/control-plane.sh install` (run here when it is missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHART="$ROOT/charts/partop"
CRD_SOURCES="$ROOT/crds"          # crds/<name>.yaml, one CRD per file
CRD_COPIES="$CHART/files/crds"    # the chart's copy of each, same file name (templates/crd.yaml)
PARTOP_CACHE="${PARTOP_CACHE:-/var/cache/partop}"
HELM="$PARTOP_CACHE/bin/helm"
RELEASE=rel
NS=partop-system

if [[ ! -x "$HELM" ]]; then
  echo "chart checks: $HELM missing, running e2e/control-plane.sh install" >&2
  bash "$ROOT/e2e/control-plane.sh" install >&2
fi
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "chart checks: python3 cannot import yaml; install it with: apt-get install -y python3-yaml" >&2
  exit 2
fi

WORK=$(mktemp -d /tmp/partop-chart-checks-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'PASS %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# Value sets
# ---------------------------------------------------------------------------------------------
: >"$WORK/default.yaml"
cat >"$WORK/namespaced.yaml" <<'EOF'
watchNamespaces: [team-a, team-b]
EOF
cat >"$WORK/monitoring.yaml" <<'EOF'
metrics:
  serviceMonitor:
    enabled: true
    labels: {release: prometheus}
  prometheusRule:
    enabled: true
EOF
cat >"$WORK/policies.yaml" <<'EOF'
policies:
  - name: events
    namespace: app
    labels: {team: payments}
    spec:
      table: public.events
      interval: daily
      premake: 14
      defaultPartition: {enabled: true, drain: true}
      indexes:
        - {name: events_created_at_idx, columns: [created_at], method: brin}
        - {name: events_id_idx, columns: [id, created_at], unique: true, include: [payload]}
      retention: {keep: 90 days, action: detach}
      guards:
        lockTimeout: 2s
        statementTimeout: 30s
        maxReplicationLag: 5s
        storage: {capacity: 500Gi, thresholdPercent: 80}
      schedule:
        resyncInterval: 10m
        maintenanceWindow: {start: "02:00", end: "05:00", timeZone: Europe/Paris}
      suspend: false
      databaseRef: {secretName: app-db, key: uri}
  - name: ledger
    spec:
      table: ledger
      interval: 100000
      retention: {keep: 5000000}
      databaseRef: {secretName: ledger-db}
EOF
cat >"$WORK/replicas2.yaml" <<'EOF'
replicaCount: 2
EOF
cat >"$WORK/leader-forced.yaml" <<'EOF'
leaderElection: {enabled: true, id: partop-lock}
maxConcurrentReconciles: 8
EOF
cat >"$WORK/no-crds.yaml" <<'EOF'
crds: {install: false}
EOF
cat >"$WORK/existing-sa.yaml" <<'EOF'
serviceAccount: {create: false, name: partop-existing}
EOF
cat >"$WORK/no-rbac.yaml" <<'EOF'
rbac: {create: false}
EOF
cat >"$WORK/openshift.yaml" <<'EOF'
securityContext: {runAsUser: null, runAsGroup: null}
EOF
cat >"$WORK/scheduling.yaml" <<'EOF'
image: {repository: registry.example.com/partop, tag: "1.2.3", pullPolicy: Always}
imagePullSecrets: [{name: regcred}]
nodeSelector: {kubernetes.io/os: linux}
tolerations: [{key: dedicated, operator: Equal, value: ops, effect: NoSchedule}]
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]
podAnnotations: {example.com/scrape: "false"}
podLabels: {team: dba, app.kubernetes.io/name: hijack}
priorityClassName: system-cluster-critical
resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 1, memory: 512Mi}}
serviceAccount: {annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::123456789012:role/partop"}}
EOF
SETS=(default namespaced monitoring policies replicas2 leader-forced no-crds existing-sa no-rbac openshift scheduling)

# ---------------------------------------------------------------------------------------------
# The CRD copies: every crds/<name>.yaml has a byte-identical charts/partop/files/crds/<name>.yaml,
# and the chart ships no CRD file that crds/ does not have.
# ---------------------------------------------------------------------------------------------
shopt -s nullglob
crd_sources=("$CRD_SOURCES"/*.yaml)
crd_copies=("$CRD_COPIES"/*.yaml)
shopt -u nullglob
if [[ ${#crd_sources[@]} -eq 0 ]]; then
  fail "no CRD in crds/*.yaml"
fi
for source in "${crd_sources[@]}"; do
  name=$(basename "$source")
  copy="$CRD_COPIES/$name"
  if cmp -s "$source" "$copy"; then
    pass "charts/partop/files/crds/$name is byte-identical to crds/$name"
  elif [[ ! -e "$copy" ]]; then
    fail "charts/partop/files/crds/$name is missing (fix: cp crds/$name charts/partop/files/crds/$name)"
  else
    fail "charts/partop/files/crds/$name differs from crds/$name (fix: cp crds/$name charts/partop/files/crds/$name)"
    diff -u "$source" "$copy" | head -20 || true
  fi
done
for copy in "${crd_copies[@]}"; do
  name=$(basename "$copy")
  if [[ ! -e "$CRD_SOURCES/$name" ]]; then
    fail "charts/partop/files/crds/$name has no crds/$name (fix: git rm charts/partop/files/crds/$name, or add crds/$name)"
  fi
done

# ---------------------------------------------------------------------------------------------
# helm lint --strict and helm template for every value set
# ---------------------------------------------------------------------------------------------
for set in "${SETS[@]}"; do
  if "$HELM" lint --strict "$CHART" --namespace "$NS" -f "$WORK/$set.yaml" >"$WORK/$set.lint" 2>&1; then
    pass "helm lint --strict ($set)"
  else
    fail "helm lint --strict ($set)"
    sed 's/^/    /' "$WORK/$set.lint"
  fi
  if "$HELM" template "$RELEASE" "$CHART" --namespace "$NS" -f "$WORK/$set.yaml" \
    >"$WORK/$set.rendered" 2>"$WORK/$set.err"; then
    pass "helm template ($set)"
  else
    fail "helm template ($set)"
    sed 's/^/    /' "$WORK/$set.err"
  fi
done

# NOTES.txt is not part of `helm template` output: render it through a copy of the chart.
cp -r "$CHART" "$WORK/notes-chart"
printf 'notes: {{ include "partop/templates/NOTES.txt" . | toJson }}\n' >"$WORK/notes-chart/templates/zz-notes.yaml"
for set in default namespaced policies replicas2; do
  if "$HELM" template "$RELEASE" "$WORK/notes-chart" --namespace "$NS" -f "$WORK/$set.yaml" \
    -s templates/zz-notes.yaml >"$WORK/$set.notes" 2>"$WORK/$set.notes.err"; then
    pass "NOTES.txt renders ($set)"
  else
    fail "NOTES.txt renders ($set)"
    sed 's/^/    /' "$WORK/$set.notes.err"
  fi
done

# ---------------------------------------------------------------------------------------------
# Values that must be refused (values.schema.json or a template check)
# ---------------------------------------------------------------------------------------------
must_fail() { # DESCRIPTION EXPECTED_ERROR_FRAGMENT helm-template-args...
  local what=$1 expect=$2
  shift 2
  local out
  if out=$("$HELM" template "$RELEASE" "$CHART" --namespace "$NS" "$@" 2>&1); then
    fail "helm template refuses $what (it rendered)"
  elif grep -qiF -- "$expect" <<<"$out"; then
    pass "helm template refuses $what"
  else
    fail "helm template refuses $what (failed, but not with \"$expect\"): $(tail -3 <<<"$out")"
  fi
}
must_fail "a typo at the top level (replicaCont=2)" "replicaCont" --set replicaCont=2
must_fail "a typo in a nested key (metrics.serviceMonitor.enabeld)" "enabeld" --set metrics.serviceMonitor.enabeld=true
must_fail "a typo in crds (crds.instal)" "instal" --set crds.instal=false
must_fail "replicaCount 0" "replicaCount" --set replicaCount=0
must_fail "replicaCount as a string" "replicaCount" --set-string replicaCount=two
must_fail "maxConcurrentReconciles 1000" "maxConcurrentReconciles" --set maxConcurrentReconciles=1000
must_fail "an unknown image.pullPolicy" "pullPolicy" --set image.pullPolicy=Sometimes
must_fail "an invalid watch namespace" "watchNamespaces" --set 'watchNamespaces={Team_A}'
must_fail "a duplicate watch namespace" "watchNamespaces" --set 'watchNamespaces={a,a}'
must_fail "securityContext.runAsUser 0 (root)" "runAsUser" --set securityContext.runAsUser=0
must_fail "an unknown securityContext key" "privileged" --set securityContext.privileged=true
must_fail "a policy without spec.table" "table" --set 'policies[0].name=p' --set 'policies[0].spec.interval=daily'
must_fail "a policy with an unknown key" "specs" --set 'policies[0].name=p' --set 'policies[0].specs.table=t'
must_fail "the same policy twice" "listed twice" \
  --set 'policies[0].name=p' --set 'policies[0].spec.table=t' --set 'policies[0].spec.interval=daily' \
  --set 'policies[1].name=p' --set 'policies[1].spec.table=u' --set 'policies[1].spec.interval=daily'
must_fail "a policy outside watchNamespaces" "watchNamespaces does not list" --set 'watchNamespaces={team-a}' \
  --set 'policies[0].name=p' --set 'policies[0].namespace=team-b' --set 'policies[0].spec.table=t' \
  --set 'policies[0].spec.interval=daily'
must_fail "serviceAccount.create=false without a name" "serviceAccount.name is required" --set serviceAccount.create=false
must_fail "Kubernetes 1.19 (kubeVersion >=1.20.0-0)" "kubeVersion" --kube-version 1.19.0

# ---------------------------------------------------------------------------------------------
# The rendered objects
# ---------------------------------------------------------------------------------------------
set +e
python3 - "$WORK" "$RELEASE" "$NS" "$CRD_SOURCES" "$CHART/Chart.yaml" "$ROOT/operator/command_line.cc" "$ROOT/Dockerfile" <<'PYTHON' >"$WORK/python.out" 2>&1
import re
import sys

import yaml

work, release, ns, crd_sources, chart_yaml, cli_source, dockerfile = sys.argv[1:8]
fullname = f"{release}-partop"
app_version = str(yaml.safe_load(open(chart_yaml))["appVersion"])
cli_text = open(cli_source).read()

WATCH_RULES = {
    ("partop.dev", "partitionpolicies"): {"get", "list", "watch"},
    ("partop.dev", "partitionpolicies/status"): {"get", "patch", "update"},
    ("partop.dev", "partitionmigrations"): {"get", "list", "watch"},
    ("partop.dev", "partitionmigrations/status"): {"get", "patch", "update"},
    ("partop.dev", "partitionbackfills"): {"get", "list", "watch"},
    ("partop.dev", "partitionbackfills/status"): {"get", "patch", "update"},
    ("", "secrets"): {"get", "list", "watch"},
    ("", "events"): {"create", "patch"},
    ("", "configmaps"): {"get", "create", "patch", "update"},
}
# What the operator actually calls (operator/manager.cc, controller, runtime): it must be granted.
NEEDED = {
    ("partop.dev", "partitionpolicies"): {"list", "watch"},
    ("partop.dev", "partitionpolicies/status"): {"patch"},
    ("partop.dev", "partitionmigrations"): {"list", "watch"},
    ("partop.dev", "partitionmigrations/status"): {"patch"},
    ("partop.dev", "partitionbackfills"): {"list", "watch"},
    ("partop.dev", "partitionbackfills/status"): {"patch"},
    ("", "secrets"): {"list", "watch"},
    ("", "events"): {"create", "patch"},
    ("", "configmaps"): {"get", "create", "patch"},
}
RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}

results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(("PASS " if condition else "FAIL ") + name + ("" if condition or not detail else f": {detail}"))


def load(value_set):
    with open(f"{work}/{value_set}.rendered") as stream:
        return [d for d in yaml.safe_load_all(stream) if d]


def values(value_set):
    with open(f"{work}/{value_set}.yaml") as stream:
        return yaml.safe_load(stream) or {}


def of_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def one(docs, kind):
    found = of_kind(docs, kind)
    return found[0] if len(found) == 1 else None


def rule_map(rules):
    """{(group, resource): verbs} over rules without resourceNames."""
    granted = {}
    for rule in rules:
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                granted.setdefault((group, resource), set()).update(rule.get("verbs", []))
    return granted


def container(deployment):
    return deployment["spec"]["template"]["spec"]["containers"][0]


def args_of(docs):
    return container(one(docs, "Deployment"))["args"]


def lease_checks(label, docs, namespace, lease):
    roles = [r for r in of_kind(docs, "Role") if r["metadata"]["name"] == f"{fullname}-leader-election"]
    check(f"{label}: one leader-election Role in the release namespace",
          len(roles) == 1 and roles[0]["metadata"].get("namespace") == namespace,
          [r["metadata"] for r in roles])
    if len(roles) != 1:
        return
    rules = roles[0]["rules"]
    lease_rules = {(tuple(r.get("resourceNames", [])), tuple(sorted(r["verbs"])))
                   for r in rules if r.get("apiGroups") == ["coordination.k8s.io"] and r.get("resources") == ["leases"]}
    check(f"{label}: leases create, and get/update on Lease {lease} only",
          len(rules) == 2 and lease_rules == {((), ("create",)), ((lease,), ("get", "update"))}, rules)
    bindings = [b for b in of_kind(docs, "RoleBinding") if b["metadata"]["name"] == f"{fullname}-leader-election"]
    check(f"{label}: leader-election RoleBinding binds the Role to the ServiceAccount",
          len(bindings) == 1 and bindings[0]["metadata"].get("namespace") == namespace
          and bindings[0]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                         "name": f"{fullname}-leader-election"}
          and bindings[0]["subjects"] == [{"kind": "ServiceAccount", "name": fullname, "namespace": namespace}],
          bindings)


def common_checks(label, docs):
    """Checks every value set must satisfy."""
    check(f"{label}: every object has apiVersion, kind and metadata.name",
          all(d.get("apiVersion") and d.get("kind") and d.get("metadata", {}).get("name") for d in docs))
    bad_rules = []
    for d in docs:
        if d["kind"] in ("Role", "ClusterRole"):
            for rule in d.get("rules", []):
                verbs = set(rule.get("verbs", []))
                if verbs & {"delete", "deletecollection", "*", "escalate", "bind", "impersonate"} \
                        or "*" in rule.get("resources", []) or "*" in rule.get("apiGroups", []) \
                        or rule.get("nonResourceURLs"):
                    bad_rules.append((d["kind"], d["metadata"]["name"], rule))
    check(f"{label}: no RBAC rule has delete, '*' or a wildcard resource/group", not bad_rules, bad_rules)
    configmap_reads = [rule for d in docs if d["kind"] in ("Role", "ClusterRole") for rule in d.get("rules", [])
                       if "configmaps" in rule.get("resources", []) and {"list", "watch"} & set(rule["verbs"])]
    check(f"{label}: no list/watch on configmaps", not configmap_reads, configmap_reads)
    labelled = all({"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by",
                    "helm.sh/chart"} <= set(d["metadata"].get("labels", {})) for d in docs)
    check(f"{label}: every object carries the chart's standard labels", labelled)
    namespaced_kinds = {"ServiceAccount", "Deployment", "Service", "ServiceMonitor", "PrometheusRule"}
    misplaced = [(d["kind"], d["metadata"].get("namespace")) for d in docs
                 if d["kind"] in namespaced_kinds and d["metadata"].get("namespace") != ns]
    check(f"{label}: namespaced objects of the operator are in the release namespace", not misplaced, misplaced)
    deployment = one(docs, "Deployment")
    check(f"{label}: exactly one Deployment", deployment is not None)
    if deployment is None:
        return
    pod = deployment["spec"]["template"]["spec"]
    c = container(deployment)
    pod_sc = pod.get("securityContext", {})
    c_sc = c.get("securityContext", {})
    check(f"{label}: pod securityContext runAsNonRoot + seccomp RuntimeDefault",
          all(pod_sc.get(k) == v for k, v in RESTRICTED_POD.items()), pod_sc)
    check(f"{label}: container securityContext is restricted (no privilege escalation, read-only root, drop ALL)",
          c_sc.get("allowPrivilegeEscalation") is False and c_sc.get("readOnlyRootFilesystem") is True
          and c_sc.get("capabilities") == {"drop": ["ALL"]} and c_sc.get("runAsNonRoot") is True
          and c_sc.get("seccompProfile") == {"type": "RuntimeDefault"} and not c_sc.get("privileged"), c_sc)
    check(f"{label}: no host namespaces, hostPath volumes or hostPorts",
          not any(pod.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
          and not any("hostPath" in v for v in pod.get("volumes", []))
          and not any("hostPort" in p for p in c.get("ports", [])))
    args = c.get("args", [])
    check(f"{label}: args start with `operator` and bind metrics :8080 and probes :8081",
          args[:3] == ["operator", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081"], args)
    check(f"{label}: --leader-election-namespace is the release namespace",
          f"--leader-election-namespace={ns}" in args, args)
    unknown = [a for a in args[1:] if f'"{a.split("=")[0]}"' not in cli_text]
    check(f"{label}: every flag is one `partop operator` accepts (operator/command_line.cc)", not unknown, unknown)
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    live, ready = c.get("livenessProbe", {}).get("httpGet", {}), c.get("readinessProbe", {}).get("httpGet", {})
    check(f"{label}: liveness GET /healthz and readiness GET /readyz on port 8081",
          live.get("path") == "/healthz" and ready.get("path") == "/readyz"
          and ports.get(live.get("port"), live.get("port")) == 8081
          and ports.get(ready.get("port"), ready.get("port")) == 8081, (live, ready, ports))
    check(f"{label}: container ports metrics 8080 and health 8081", ports == {"metrics": 8080, "health": 8081}, ports)
    selector = deployment["spec"]["selector"]["matchLabels"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    check(f"{label}: the Deployment selects its own pods",
          selector and all(pod_labels.get(k) == v for k, v in selector.items()), (selector, pod_labels))
    service = one(docs, "Service")
    check(f"{label}: metrics Service on port 8080 named metrics, selecting the operator pods",
          service is not None and service["spec"]["ports"] == [
              {"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}]
          and service["spec"]["selector"] == selector, service and service["spec"])
    sa_name = pod.get("serviceAccountName")
    bindings = of_kind(docs, "RoleBinding") + of_kind(docs, "ClusterRoleBinding")
    check(f"{label}: every binding's subject is the pod's ServiceAccount",
          all(b["subjects"] == [{"kind": "ServiceAccount", "name": sa_name, "namespace": ns}] for b in bindings),
          [b["subjects"] for b in bindings])


def cluster_scope_checks(label, docs):
    cluster_roles = of_kind(docs, "ClusterRole")
    check(f"{label}: one ClusterRole", len(cluster_roles) == 1, [r["metadata"]["name"] for r in cluster_roles])
    if cluster_roles:
        granted = rule_map(cluster_roles[0]["rules"])
        check(f"{label}: ClusterRole grants exactly the operator's rules", granted == WATCH_RULES, granted)
        missing = {k: v - granted.get(k, set()) for k, v in NEEDED.items() if v - granted.get(k, set())}
        check(f"{label}: ClusterRole covers every API call the operator makes", not missing, missing)
    crbs = of_kind(docs, "ClusterRoleBinding")
    check(f"{label}: one ClusterRoleBinding to that ClusterRole",
          len(crbs) == 1 and crbs[0]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                    "name": fullname}, crbs)
    policy_roles = [r for r in of_kind(docs, "Role")
                    if any({"partitionpolicies", "partitionmigrations", "partitionbackfills"} & set(rule.get("resources", []))
                           for rule in r["rules"])]
    check(f"{label}: no Role for policies or migrations (cluster-wide mode)", not policy_roles)
    roles = of_kind(docs, "Role")
    check(f"{label}: the only Role is the leader-election one",
          [r["metadata"]["name"] for r in roles] == [f"{fullname}-leader-election"], [r["metadata"] for r in roles])
    check(f"{label}: no --namespace flag (watches all namespaces)",
          not any(a.startswith("--namespace") for a in args_of(docs)))


INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
FORBIDDEN_IN_JUNCTORS = {"type", "default", "description", "nullable", "additionalProperties"}


def structural_problems(schema, path):
    """The structural-schema rules of apiextensions (k8s >= 1.15) that a static check can see: inside
    anyOf/allOf/oneOf/not, nested value validations may not carry type, default, description,
    nullable or x-kubernetes-* extensions; the one exception is x-kubernetes-int-or-string with
    anyOf exactly [{type: integer}, {type: string}] (optionally wrapped in allOf)."""
    problems = []

    def nested(node, where):
        if not isinstance(node, dict):
            return
        for key in node:
            if key in FORBIDDEN_IN_JUNCTORS or key.startswith("x-kubernetes-"):
                problems.append(f"{where}.{key}: must be empty to be structural")
        for key in ("anyOf", "allOf", "oneOf"):
            for i, branch in enumerate(node.get(key, [])):
                nested(branch, f"{where}.{key}[{i}]")
        if "not" in node:
            nested(node["not"], f"{where}.not")
        for name, child in node.get("properties", {}).items():
            nested(child, f"{where}.properties[{name}]")
        if "items" in node:
            nested(node["items"], f"{where}.items")

    def walk(node, where):
        if not isinstance(node, dict):
            return
        int_or_string = node.get("x-kubernetes-int-or-string") is True
        for key in ("anyOf", "allOf", "oneOf"):
            for i, branch in enumerate(node.get(key, [])):
                if int_or_string and key == "anyOf" and node["anyOf"] == INT_OR_STRING:
                    continue
                if int_or_string and key == "allOf" and branch == {"anyOf": INT_OR_STRING}:
                    continue
                nested(branch, f"{where}.{key}[{i}]")
        if "not" in node:
            nested(node["not"], f"{where}.not")
        for name, child in node.get("properties", {}).items():
            walk(child, f"{where}.properties[{name}]")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{where}.items")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{where}.additionalProperties")

    walk(schema, path)
    return problems


def undescribed_fields(schema, path=""):
    """The paths of the properties (at every depth, array items as []) without a description:
    `kubectl explain` shows nothing for them."""
    missing = []
    if not isinstance(schema, dict):
        return missing
    for name, child in schema.get("properties", {}).items():
        where = f"{path}.{name}" if path else name
        # The API server refuses anything but name and generateName in a CRD's metadata schema;
        # kubectl explain describes ObjectMeta itself.
        if where == "metadata":
            continue
        if isinstance(child, dict) and not child.get("description"):
            missing.append(where)
        missing += undescribed_fields(child, where)
    if isinstance(schema.get("items"), dict):
        missing += undescribed_fields(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        missing += undescribed_fields(schema["additionalProperties"], f"{path}{{}}")
    return missing


# The CRDs the chart renders: name -> (kind, short name); each comes from crds/<name>.yaml.
CRDS = {
    "partitionbackfills.partop.dev": ("PartitionBackfill", "pbf"),
    "partitionmigrations.partop.dev": ("PartitionMigration", "pmig"),
    "partitionpolicies.partop.dev": ("PartitionPolicy", "ppol"),
}


def crd_checks(label, docs):
    crds = of_kind(docs, "CustomResourceDefinition")
    rendered_names = [c["metadata"]["name"] for c in crds]
    check(f"{label}: the CRDs are exactly {', '.join(sorted(CRDS))}, once each",
          sorted(rendered_names) == sorted(CRDS), rendered_names)
    for crd in crds:
        name = crd["metadata"]["name"]
        if name not in CRDS:
            continue
        kind, short_name = CRDS[name]
        check(f"{label}: CRD {name} annotated helm.sh/resource-policy: keep",
              crd["metadata"].get("annotations", {}).get("helm.sh/resource-policy") == "keep", crd["metadata"])
        source = yaml.safe_load(open(f"{crd_sources}/{name}.yaml"))
        rendered = {**crd,
                    "metadata": {k: v for k, v in crd["metadata"].items() if k not in ("labels", "annotations")}}
        check(f"{label}: rendered CRD equals crds/{name}.yaml (except the added labels/annotation)",
              rendered == source)
        problems = structural_problems(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"], "openAPIV3Schema")
        check(f"{label}: CRD {name} schema is structural (kube-apiserver rejects type/default/description inside "
              f"anyOf/allOf/oneOf/not, except the bare int-or-string anyOf [{{type: integer}}, {{type: string}}])",
              not problems, "; ".join(problems))
        undescribed = [f"{v['name']}: {p}" for v in crd["spec"]["versions"]
                       for p in undescribed_fields(v["schema"]["openAPIV3Schema"])]
        check(f"{label}: every field of {name} has a description (kubectl explain)",
              not undescribed, "no description: " + ", ".join(undescribed))
        names = crd["spec"]["names"]
        check(f"{label}: CRD {name} names ({kind}, {short_name}, category partop), group partop.dev, namespaced, "
              f"and served version v1alpha1 with status subresource",
              names.get("kind") == kind and names.get("shortNames") == [short_name]
              and names.get("categories") == ["partop"]
              and crd["spec"].get("group") == "partop.dev" and crd["spec"].get("scope") == "Namespaced"
              and [(v["name"], v["served"], v["storage"], "status" in v.get("subresources", {}))
                   for v in crd["spec"]["versions"]] == [("v1alpha1", True, True, True)])


# --- default --------------------------------------------------------------------------------
docs = load("default")
common_checks("default", docs)
cluster_scope_checks("default", docs)
lease_checks("default", docs, ns, f"{fullname}-leader")
crd_checks("default", docs)
deployment = one(docs, "Deployment")
args = args_of(docs)
check("default: exact args", args == [
    "operator", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081",
    f"--leader-election-namespace={ns}", f"--leader-election-id={fullname}-leader",
    "--max-concurrent-reconciles=4", "--max-connections-per-database=4"], args)
check("default: 1 replica, no --leader-elect, Recreate strategy (never two active operators)",
      deployment["spec"]["replicas"] == 1 and "--leader-elect" not in args
      and deployment["spec"].get("strategy") == {"type": "Recreate"}, deployment["spec"].get("strategy"))
c = container(deployment)
check("default: image ghcr.io/partop/partop:<appVersion>, IfNotPresent",
      c["image"] == f"ghcr.io/partop/partop:{app_version}" and c["imagePullPolicy"] == "IfNotPresent", c["image"])
check("default: runAsUser/runAsGroup 65532",
      deployment["spec"]["template"]["spec"]["securityContext"].get("runAsUser") == 65532
      and c["securityContext"].get("runAsUser") == 65532 and c["securityContext"].get("runAsGroup") == 65532)
image_user = [l.split()[1] for l in open(dockerfile) if l.startswith("USER ")][-1]
check("default: the pod's user and group are the image's (Dockerfile USER)",
      image_user == f'{c["securityContext"].get("runAsUser")}:{c["securityContext"].get("runAsGroup")}',
      image_user)
check("default: resources from values",
      c.get("resources") == {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
      c.get("resources"))
sa = one(docs, "ServiceAccount")
check("default: a ServiceAccount named like the release, used by the pod",
      sa is not None and sa["metadata"]["name"] == fullname
      and deployment["spec"]["template"]["spec"]["serviceAccountName"] == fullname)
check("default: no ServiceMonitor, PrometheusRule or PartitionPolicy",
      not of_kind(docs, "ServiceMonitor") and not of_kind(docs, "PrometheusRule")
      and not of_kind(docs, "PartitionPolicy"))

# --- namespaced -------------------------------------------------------------------------------
docs = load("namespaced")
common_checks("namespaced", docs)
check("namespaced: no ClusterRole and no ClusterRoleBinding",
      not of_kind(docs, "ClusterRole") and not of_kind(docs, "ClusterRoleBinding"))
for watched in ("team-a", "team-b"):
    roles = [r for r in of_kind(docs, "Role") if r["metadata"].get("namespace") == watched]
    check(f"namespaced: one Role in {watched} with exactly the operator's rules",
          len(roles) == 1 and rule_map(roles[0]["rules"]) == WATCH_RULES, roles)
    bindings = [b for b in of_kind(docs, "RoleBinding") if b["metadata"].get("namespace") == watched]
    check(f"namespaced: one RoleBinding in {watched} to that Role",
          len(bindings) == 1 and roles and bindings[0]["roleRef"] == {
              "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": roles[0]["metadata"]["name"]}, bindings)
check("namespaced: Roles only in team-a, team-b and (leader election) the release namespace",
      sorted(r["metadata"]["namespace"] for r in of_kind(docs, "Role")) == sorted(["team-a", "team-b", ns]))
lease_checks("namespaced", docs, ns, f"{fullname}-leader")
args = args_of(docs)
check("namespaced: one --namespace per watched namespace, in order",
      [a for a in args if a.startswith("--namespace")] == ["--namespace=team-a", "--namespace=team-b"], args)

# --- monitoring --------------------------------------------------------------------------------
docs = load("monitoring")
common_checks("monitoring", docs)
service = one(docs, "Service")
monitor = one(docs, "ServiceMonitor")
check("monitoring: a ServiceMonitor with the extra labels", monitor is not None
      and monitor["metadata"]["labels"].get("release") == "prometheus")
if monitor and service:
    sel = monitor["spec"]["selector"]["matchLabels"]
    check("monitoring: the ServiceMonitor selects the metrics Service (and only by its labels)",
          all(service["metadata"]["labels"].get(k) == v for k, v in sel.items())
          and monitor["spec"]["namespaceSelector"] == {"matchNames": [ns]}, sel)
    endpoints = monitor["spec"]["endpoints"]
    check("monitoring: the ServiceMonitor scrapes port `metrics` at /metrics",
          len(endpoints) == 1 and endpoints[0]["port"] == "metrics" and endpoints[0]["path"] == "/metrics", endpoints)
rule = one(docs, "PrometheusRule")
check("monitoring: a PrometheusRule", rule is not None)
if rule:
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r}
    check("monitoring: alerts PartitionBufferLow, DefaultPartitionNotEmpty, PartopReconcileErrors, PartopDown",
          set(alerts) == {"PartitionBufferLow", "DefaultPartitionNotEmpty", "PartopReconcileErrors", "PartopDown"},
          sorted(alerts))
    job = f'job="{service["metadata"]["name"]}"'
    expected = {
        "PartitionBufferLow": (r"^partop_buffer_seconds\{" + re.escape(job) + r"\} < 1209600 and on\(instance\) "
                               r"partop_leader\{" + re.escape(job) + r"\} == 1$", "15m"),
        "DefaultPartitionNotEmpty": (r"^partop_default_rows\{" + re.escape(job) + r"\} > 0 and ", "30m"),
        "PartopReconcileErrors": (r"increase\(partop_reconcile_errors_total\{" + re.escape(job) + r"\}\[15m\]\)\) > 0$",
                                  None),
        "PartopDown": (r"^absent\(up\{" + re.escape(job) + r',namespace="' + ns + r'"\} == 1\)$', "5m"),
    }
    for name, (pattern, duration) in expected.items():
        if name in alerts:
            a = alerts[name]
            check(f"monitoring: {name} expr and `for`",
                  re.search(pattern, a["expr"]) and a.get("for") == duration, (a["expr"], a.get("for")))
            check(f"monitoring: {name} has a severity and a summary",
                  a.get("labels", {}).get("severity") in ("warning", "critical") and a.get("annotations", {}).get("summary"))
    text = open(f"{work}/monitoring.rendered").read()
    check("monitoring: alert annotations keep Prometheus templates ({{ $labels.policy }})",
          "{{ $labels.policy }}" in text and "{{ $value" in text)

# --- policies ---------------------------------------------------------------------------------
docs = load("policies")
common_checks("policies", docs)
wanted = values("policies")["policies"]
policies = {(p["metadata"].get("namespace"), p["metadata"]["name"]): p for p in of_kind(docs, "PartitionPolicy")}
check("policies: one PartitionPolicy per entry", len(policies) == len(wanted), sorted(policies))
for entry in wanted:
    key = (entry.get("namespace", ns), entry["name"])
    p = policies.get(key)
    check(f"policies: {key[0]}/{key[1]} is partop.dev/v1alpha1 PartitionPolicy",
          p is not None and p["apiVersion"] == "partop.dev/v1alpha1")
    check(f"policies: {key[0]}/{key[1]} spec copied verbatim", p is not None and p["spec"] == entry["spec"],
          p and p["spec"])
    if entry.get("labels"):
        check(f"policies: {key[0]}/{key[1]} carries its labels",
              p is not None and all(p["metadata"]["labels"].get(k) == v for k, v in entry["labels"].items()))
crd = next((c for c in of_kind(docs, "CustomResourceDefinition")
            if c["metadata"]["name"] == "partitionpolicies.partop.dev"), None)
check("policies: the PartitionPolicy CRD is rendered (to validate the specs against)", crd is not None)
if crd:
    # Light structural validation of the rendered specs against the CRD: known top-level keys
    # and required fields (the API server does the full validation).
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    for key, p in policies.items():
        unknown = set(p["spec"]) - set(schema["properties"])
        missing = set(schema["required"]) - set(p["spec"])
        check(f"policies: {key[0]}/{key[1]} spec has only CRD fields and the required ones",
              not unknown and not missing, (unknown, missing))

# --- replicas 2 / forced leader election -----------------------------------------------------
docs = load("replicas2")
common_checks("replicas2", docs)
deployment = one(docs, "Deployment")
args = args_of(docs)
check("replicas2: 2 replicas, --leader-elect, rolling update",
      deployment["spec"]["replicas"] == 2 and "--leader-elect" in args and "strategy" not in deployment["spec"], args)
lease_checks("replicas2", docs, ns, f"{fullname}-leader")
check("replicas2: --leader-election-id matches the Lease the Role allows",
      f"--leader-election-id={fullname}-leader" in args, args)

docs = load("leader-forced")
common_checks("leader-forced", docs)
args = args_of(docs)
check("leader-forced: leaderElection.enabled adds --leader-elect with one replica, custom id and workers",
      one(docs, "Deployment")["spec"]["replicas"] == 1 and "--leader-elect" in args
      and "--leader-election-id=partop-lock" in args and "--max-concurrent-reconciles=8" in args
      and "--max-connections-per-database=4" in args, args)
lease_checks("leader-forced", docs, ns, "partop-lock")

# --- toggles ----------------------------------------------------------------------------------
docs = load("no-crds")
common_checks("no-crds", docs)
check("no-crds: crds.install=false renders no CRD (no partitionpolicies, partitionmigrations or partitionbackfills)",
      not of_kind(docs, "CustomResourceDefinition"), [c["metadata"]["name"] for c in of_kind(docs, "CustomResourceDefinition")])

docs = load("existing-sa")
common_checks("existing-sa", docs)
check("existing-sa: no ServiceAccount created; the pod and bindings use partop-existing",
      not of_kind(docs, "ServiceAccount")
      and one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "partop-existing")

docs = load("no-rbac")
common_checks("no-rbac", docs)
check("no-rbac: rbac.create=false renders no Role, ClusterRole or binding",
      not any(of_kind(docs, k) for k in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")))

docs = load("openshift")
common_checks("openshift", docs)
deployment = one(docs, "Deployment")
check("openshift: runAsUser/runAsGroup null leaves them unset (runAsNonRoot stays)",
      not {"runAsUser", "runAsGroup"} & set(deployment["spec"]["template"]["spec"]["securityContext"])
      and not {"runAsUser", "runAsGroup"} & set(container(deployment)["securityContext"]))

docs = load("scheduling")
common_checks("scheduling", docs)
v = values("scheduling")
deployment = one(docs, "Deployment")
pod = deployment["spec"]["template"]["spec"]
meta = deployment["spec"]["template"]["metadata"]
c = container(deployment)
check("scheduling: nodeSelector, tolerations, affinity, priorityClassName, imagePullSecrets copied",
      pod.get("nodeSelector") == v["nodeSelector"] and pod.get("tolerations") == v["tolerations"]
      and pod.get("affinity") == v["affinity"] and pod.get("priorityClassName") == v["priorityClassName"]
      and pod.get("imagePullSecrets") == v["imagePullSecrets"])
check("scheduling: podAnnotations and podLabels on the pod; podLabels cannot override the selector",
      meta.get("annotations") == v["podAnnotations"] and meta["labels"].get("team") == "dba"
      and meta["labels"].get("app.kubernetes.io/name") == "partop", meta)
check("scheduling: image repository/tag/pullPolicy and resources from values",
      c["image"] == "registry.example.com/partop:1.2.3" and c["imagePullPolicy"] == "Always"
      and c["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": 1, "memory": "512Mi"}},
      (c["image"], c["resources"]))
check("scheduling: ServiceAccount annotations",
      one(docs, "ServiceAccount")["metadata"].get("annotations") == v["serviceAccount"]["annotations"])

# --- NOTES.txt --------------------------------------------------------------------------------
for value_set in ("default", "namespaced", "policies", "replicas2"):
    try:
        notes = yaml.safe_load(open(f"{work}/{value_set}.notes"))["notes"]
    except Exception as error:  # noqa: BLE001 - reported as a failed check
        check(f"NOTES ({value_set}): readable", False, error)
        continue
    check(f"NOTES ({value_set}): kubectl get ppol -A, kubectl wait --for=condition=Ready ppol/NAME, kubectl describe",
          "kubectl get ppol -A" in notes and "wait --for=condition=Ready ppol/" in notes
          and "describe ppol" in notes)
    if value_set == "policies":
        check("NOTES (policies): a wait command per policy",
              "kubectl -n app wait --for=condition=Ready ppol/events" in notes
              and f"kubectl -n {ns} wait --for=condition=Ready ppol/ledger" in notes)
    if value_set == "namespaced":
        check("NOTES (namespaced): names the watched namespaces", "team-a, team-b" in notes)

print(f"PYTHON-SUMMARY {sum(results)} {len(results) - sum(results)}")
PYTHON
py_status=$?
set -e
grep -v '^PYTHON-SUMMARY ' "$WORK/python.out" || true
if [[ $py_status -ne 0 ]] || ! grep -q '^PYTHON-SUMMARY ' "$WORK/python.out"; then
  fail "the rendered-object checks (python3) did not run to the end (exit $py_status)"
else
  read -r _ py_passed py_failed < <(grep '^PYTHON-SUMMARY ' "$WORK/python.out")
  passed=$((passed + py_passed))
  failed=$((failed + py_failed))
fi

# ---------------------------------------------------------------------------------------------
# The alerts through promtool: the rendered PrometheusRule's rules parse with their templates
# (check rules), and e2e/alerts/alerts.test.yaml fires each alert on the series that should fire it
# and on nothing else (test rules, on the rules without annotations).
# ---------------------------------------------------------------------------------------------
if "$HELM" template partop "$CHART" --namespace partop-system --set metrics.prometheusRule.enabled=true \
  -s templates/prometheusrule.yaml >"$WORK/prometheusrule.yaml" 2>"$WORK/prometheusrule.err" \
  && "$ROOT/e2e/alerts/rules_of.py" "$WORK/prometheusrule.yaml" "$WORK/alerts/full.yaml" "$WORK/alerts/rules.yaml"; then
  if promtool check rules "$WORK/alerts/full.yaml" >"$WORK/promtool-check.out" 2>&1; then
    pass "promtool check rules (the chart's PrometheusRule)"
  else
    fail "promtool check rules (the chart's PrometheusRule)"
    sed 's/^/    /' "$WORK/promtool-check.out"
  fi
  cp "$ROOT/e2e/alerts/alerts.test.yaml" "$WORK/alerts/"
  if promtool test rules "$WORK/alerts/alerts.test.yaml" >"$WORK/promtool-test.out" 2>&1; then
    pass "promtool test rules (e2e/alerts/alerts.test.yaml: each alert fires, and only then)"
  else
    fail "promtool test rules (e2e/alerts/alerts.test.yaml)"
    sed 's/^/    /' "$WORK/promtool-test.out"
  fi
else
  fail "the PrometheusRule renders and its rules can be extracted"
  sed 's/^/    /' "$WORK/prometheusrule.err"
fi

# The Grafana dashboard: rendered only when enabled, with the sidecar's label; every panel query
# parses with promtool (as a recording rule) and reads only metrics the operator exports.
if "$HELM" template partop "$CHART" --namespace partop-system --set metrics.grafanaDashboard.enabled=true \
  -s templates/grafana-dashboard.yaml >"$WORK/dashboard.yaml" 2>"$WORK/dashboard.err" \
  && grep -q 'grafana_dashboard: "1"' "$WORK/dashboard.yaml"; then
  pass "Grafana dashboard ConfigMap with the sidecar label (metrics.grafanaDashboard.enabled)"
else
  fail "Grafana dashboard ConfigMap with the sidecar label"
  sed 's/^/    /' "$WORK/dashboard.err"
fi
if grep -q 'grafana' "$WORK/default.rendered"; then
  fail "the dashboard is rendered although metrics.grafanaDashboard.enabled is false"
else
  pass "no dashboard by default"
fi
if "$ROOT/e2e/alerts/dashboard_rules.py" "$WORK/dashboard.yaml" "$ROOT/operator/runtime/metrics.cc" \
  "$WORK/alerts/dashboard.yaml" >"$WORK/dashboard-rules.out" 2>&1 \
  && promtool check rules "$WORK/alerts/dashboard.yaml" >>"$WORK/dashboard-rules.out" 2>&1; then
  pass "every dashboard query parses (promtool) and reads exported metrics: $(head -1 "$WORK/dashboard-rules.out")"
else
  fail "dashboard queries"
  sed 's/^/    /' "$WORK/dashboard-rules.out"
fi

echo "chart checks: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
