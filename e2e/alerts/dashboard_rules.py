#!/usr/bin/env python3
"""dashboard_rules.py CONFIGMAP METRICS_CC OUT: takes the Grafana dashboard out of the chart's
rendered dashboard ConfigMap and writes each panel query as a recording rule in OUT, with Grafana's
variables replaced ($job, $__rate_interval), so that `promtool check rules OUT` parses every
query with Prometheus's own parser. Fails when a query reads a partop_ metric that the operator
does not export (the .Name("...") families of METRICS_CC, a histogram's _bucket/_sum/_count
included) or when a panel has no query."""
import json
import re
import sys

import yaml

config_map_path, metrics_cc, out_path = sys.argv[1:4]
config_map = next(d for d in yaml.safe_load_all(open(config_map_path)) if d and d["kind"] == "ConfigMap")
dashboard = json.loads(config_map["data"]["partop.json"])
families = set(re.findall(r'\.Name\("(partop_[a-z_]+)"\)', open(metrics_cc).read()))
exported = families | {f + suffix for f in families for suffix in ("_bucket", "_sum", "_count")}

rules, problems = [], []
for panel in dashboard["panels"]:
    if not panel.get("targets"):
        problems.append(f"panel {panel['title']!r} has no query")
    for target in panel.get("targets", []):
        expr = target["expr"].replace("$__rate_interval", "5m").replace("$job", "partop-metrics")
        for name in re.findall(r"\bpartop_[a-z_]+", expr):
            if name not in exported:
                problems.append(f"panel {panel['title']!r} reads {name}, which the operator does not export")
        rules.append({"record": f"dashboard:panel{panel['id']}:{target['refId']}", "expr": expr})
if problems:
    sys.exit("\n".join(problems))
with open(out_path, "w") as out:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, out, sort_keys=False)
print(f"{len(rules)} queries in {len(dashboard['panels'])} panels")
