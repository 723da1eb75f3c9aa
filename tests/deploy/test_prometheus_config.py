"""deploy/prometheus and deploy/grafana: promtool accepts the configs and rules, the alert unit
tests pass, and every metric the rules and the dashboard query is one libs/metrics.py defines."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml

from libs import metrics
from tests.deploy.promtool import promtool

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboard.json"
# Series names a query may use besides ours: Prometheus' own and the standard collectors'.
_OURS = re.compile(r"\b((?:wa|process|python)_[a-z0-9_]+|up)\b")


def _defined_series() -> set[str]:
    """Every series name the registry can expose, with the _bucket/_sum/_count/_total suffixes."""
    names = {"up"}
    for family in metrics.REGISTRY.collect():
        names.add(family.name)
        for sample in family.samples:
            names.add(sample.name)
        if family.type == "histogram":
            names.update(family.name + s for s in ("_bucket", "_sum", "_count"))
        if family.type == "counter":
            names.add(family.name + "_total")
    return names


def _unknown(expr: str) -> set[str]:
    return {name for name in _OURS.findall(expr) if name not in _defined_series()}


def test_configs_are_valid(tmp_path: Path) -> None:
    # prometheus.yml reads the bearer token from `metrics_token` next to it; promtool checks
    # that the file exists, so check a copy with a stand-in token.
    copy = tmp_path / "prometheus"
    shutil.copytree(PROMETHEUS, copy)
    (copy / "metrics_token").write_text("stand-in\n")
    for name in ("prometheus.yml", "prometheus.local.yml"):
        done = promtool("check", "config", name, cwd=str(copy))
        assert done.returncode == 0, done.stdout + done.stderr


def test_rules_are_valid_and_their_unit_tests_pass() -> None:
    done = promtool("check", "rules", "alerts.yml", cwd=str(PROMETHEUS))
    assert done.returncode == 0, done.stdout + done.stderr
    done = promtool("test", "rules", "alerts.test.yml", "alerts.weekly.test.yml", cwd=str(PROMETHEUS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_required_alerts_exist() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {
        "WebhookServerErrors",
        "WebhookInvalidSignatureSpike",
        "ConsumerLagGrowing",
        "DeadLettersAppearing",
        "TwilioFailureRatio",
        "OutboxBacklog",
        "NoInboundMessagesDuringOpeningHours",
    } <= names


def test_rules_use_only_defined_metrics() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert not _unknown(rule["expr"]), (rule["alert"], _unknown(rule["expr"]))


def test_dashboard_uses_only_defined_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert exprs, "the dashboard has no queries"
    for expr in exprs:
        assert not _unknown(expr), (expr, _unknown(expr))
