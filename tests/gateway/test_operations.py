"""The gateway's operations endpoints on a real node and database: liveness, readiness that follows the index,
promtool-clean metrics with the index's lag and each asset's settlement lag."""

from __future__ import annotations

import subprocess

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from tests.support.chain import Site
from wellhead.chain.client import Protocol, send
from wellhead.chain.connection import rpc
from wellhead.chain.deployment import Deployment
from wellhead.devkit.scenario import Actors
from wellhead.gateway.app import create_app
from wellhead.gateway.index.indexer import Indexer
from wellhead.gateway.services import Services


def sample(text: str, name: str, **labels: str) -> float | None:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


def test_health_readiness_and_metrics_follow_the_index(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    site = Site(w3, protocol, actors)
    indexer = Indexer(w3, deployment, sessions, confirmations=0)
    client = TestClient(create_app(Services.build(sessions, w3, deployment, domain="testserver")))
    assert client.get("/healthz").json() == {"status": "ok"}
    not_yet = client.get("/readyz")
    assert not_yet.status_code == 503 and not_yet.json()["code"] == "not_ready", "nothing indexed yet"
    indexer.sync()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["next_block"] == ready.json()["head"] + 1
    # an accepted report not settled yet is settlement lag; settling it clears it
    site.warp_to(site.epoch_end(0))
    site.submit(site.report(0, 9_800))
    indexer.sync()
    text = client.get("/metrics").text
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert sample(text, "wellhead_gateway_settlement_lag_epochs", asset=str(site.asset_id)) == 1
    assert sample(text, "wellhead_gateway_indexer_lag_blocks") == 0
    site.warp_to(site.epoch_end(0) + 601)
    send(w3, actors.admin, protocol.market.functions.finalizeEpoch(site.asset_id, 0))
    indexer.sync()
    assert sample(client.get("/metrics").text, "wellhead_gateway_settlement_lag_epochs", asset=str(site.asset_id)) == 0
    # the chain moves on and the index does not: not ready, and the lag shows
    rpc(w3, "anvil_mine", [hex(80)])
    behind = client.get("/readyz")
    assert behind.status_code == 503 and "blocks behind" in behind.json()["detail"]
    assert sample(client.get("/metrics").text, "wellhead_gateway_indexer_lag_blocks") == 80
