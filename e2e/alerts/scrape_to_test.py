#!/usr/bin/env python3
"""scrape_to_test.py FIRST SECOND EXPECTED OUT: a `promtool test rules` file from two scrapes of a
running operator's /metrics (FIRST, then SECOND a little later), as Prometheus would have stored
them scraping through the chart's ServiceMonitor: every sample of the metrics the alerts read gets
job="partop-metrics", an instance and, where the operator exports none, the target's namespace
"partop-system". Gauges hold SECOND's value for 40 minutes; counters hold FIRST's value for 10
minutes then SECOND's. EXPECTED (JSON) lists {"eval_time", "alertname", "exp_alerts"} checks.
Also fails when an alert reads a partop_ metric the scrape does not have."""
import json
import re
import sys

import yaml

first_path, second_path, expected_path, out_path, rules_path = sys.argv[1:6]
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(path):
    out = {}
    for line in open(path):
        match = SAMPLE.match(line.strip())
        if not match or line.startswith("#"):
            continue
        name, _, labels, value = match.groups()
        out[(name, tuple(LABEL.findall(labels or "")))] = float(value)
    return out


rules = yaml.safe_load(open(rules_path))
used = set()
for group in rules["groups"]:
    for rule in group["rules"]:
        used.update(re.findall(r"\bpartop_[a-z_]+", rule["expr"]))
first, second = samples(first_path), samples(second_path)
exported = {name for name, _ in second}
missing = sorted(used - exported)
if missing:
    sys.exit(f"the alerts read metrics the operator does not export: {', '.join(missing)}")

series = []
for (name, labels), value in sorted(second.items()):
    if name not in used:
        continue
    full = dict(labels)
    full.setdefault("namespace", "partop-system")
    full.update({"job": "partop-metrics", "instance": "10.244.0.7:8080"})
    selector = name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(full.items())) + "}"
    if name.endswith("_total"):
        before = first.get((name, labels), 0.0)
        values = f"{before:g}x9 {value:g}x30"
    else:
        values = f"{value:g}x40"
    series.append({"series": selector, "values": values})

test = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m",
        "tests": [{"name": "the series a running operator exported", "interval": "1m",
                   "input_series": series, "alert_rule_test": json.load(open(expected_path))}]}
with open(out_path, "w") as out:
    yaml.safe_dump(test, out, sort_keys=False)
