"""The operator's files in packaging/: the alert rules pass promtool and name only metrics the services export;
the example configs load; the Grafana dashboard's queries name only exported metrics too."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml
from prometheus_client import generate_latest

from wellhead.agent.metrics import AgentMetrics
from wellhead.gateway.metrics import GatewayMetrics
from wellhead.keeper.metrics import KeeperMetrics

PACKAGING = Path(__file__).resolve().parent.parent / "packaging"
METRIC = re.compile(r"\bwellhead_[a-z_]+")


def exported() -> set[str]:
    """Every metric name the three services expose (counters with _total), from their registries."""
    agent = AgentMetrics()
    KeeperMetrics(agent.registry)
    from prometheus_client import Gauge

    Gauge("wellhead_keeper_last_pass_timestamp_seconds", "", registry=agent.registry)
    text = generate_latest(agent.registry).decode() + generate_latest(GatewayMetrics().registry).decode()
    names = set(re.findall(r"^# (?:HELP|TYPE) (wellhead_[a-z_]+)", text, re.M))
    counters = set(re.findall(r"^# TYPE (wellhead_[a-z_]+) counter", text, re.M))
    return names | {f"{c}_total" for c in counters} | {f"{h}_bucket" for h in names}


def test_alert_rules_pass_promtool_and_name_real_metrics() -> None:
    rules = PACKAGING / "prometheus-alerts.yaml"
    proc = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    named = set(METRIC.findall(rules.read_text()))
    assert named and named <= exported(), f"alerts on metrics no service exports: {sorted(named - exported())}"
    alerts = [r["alert"] for g in yaml.safe_load(rules.read_text())["groups"] for r in g["rules"]]
    for wanted in ("AgentBehind", "AgentOutboxStuck", "CheckerDisagreeing", "SignerBalanceLow", "IndexerLagging",
                   "SettlementLagging"):  # fmt: skip
        assert f"Wellhead{wanted}" in alerts


def test_the_grafana_dashboard_queries_real_metrics() -> None:
    board = json.loads((PACKAGING / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    named = {m for e in exprs for m in METRIC.findall(e)}
    assert len(exprs) >= 8 and named <= exported(), sorted(named - exported())


def test_the_example_configs_load(tmp_path: Path) -> None:
    from wellhead.keeper.service import KeeperSettings

    keeper = KeeperSettings.model_validate(yaml.safe_load((PACKAGING / "keeper.example.yaml").read_text()))
    assert keeper.assets == "all" and keeper.stagger == 30
    site = yaml.safe_load((PACKAGING / "site.example.yaml").read_text())
    from wellhead.agent.config import AgentSettings

    AgentSettings.model_validate({**site, "inventory_file": None, "inventory": None})
