#!/usr/bin/env python3
"""rules_of.py PROMETHEUSRULE FULL STRIPPED: writes the rule groups (spec.groups) of a rendered
PrometheusRule as a Prometheus rules file FULL, and again without annotations as STRIPPED — for
`promtool test rules`, which compares annotations too, while the tests are about when each alert
fires (`promtool check rules` on FULL checks the annotation templates)."""
import copy
import os
import sys

import yaml

rule_path, full_path, stripped_path = sys.argv[1:4]
documents = [d for d in yaml.safe_load_all(open(rule_path)) if d and d.get("kind") == "PrometheusRule"]
if len(documents) != 1:
    sys.exit(f"{rule_path}: expected one PrometheusRule, found {len(documents)}")
groups = documents[0]["spec"]["groups"]
stripped = copy.deepcopy(groups)
for group in stripped:
    for rule in group["rules"]:
        rule.pop("annotations", None)
for path, content in ((full_path, groups), (stripped_path, stripped)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        yaml.safe_dump({"groups": content}, out, sort_keys=False)
