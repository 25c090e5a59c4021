"""The gateway's operations endpoints on a real node and database: liveness, readiness that follows the index,
promtool-clean metrics with the index's lag and each asset's settlement lag."""

from __future__ import annotations

import subprocess
from pathlib import Path

from eth_typing import HexStr
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from tests.support.chain import Desk, Site
from tests.support.wallet import key, prepare, sign
from wellhead.chain.client import Protocol
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
    # anyone settles through the gateway: prepared unsigned, signed by whoever pays the gas
    body = {"from": actors.lender.address, "asset_id": site.asset_id}
    early = client.post("/api/v1/transactions/prepare/settle", json=body, headers=key())
    assert early.status_code == 409 and early.json()["code"] == "nothing_to_settle", "inside the challenge window"
    site.warp_to(site.epoch_end(0) + 601)
    prepared = prepare(client, "settle", body)
    assert prepared["function"] == "finalizeEpochs(uint256,uint64)" and "settle 1 epochs" in prepared["summary"]
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(HexStr(sign(actors.lender, prepared))))
    assert receipt["status"] == 1
    no_feed = client.post("/api/v1/transactions/prepare/nav-update", json=body, headers=key())
    assert no_feed.status_code == 404 and no_feed.json()["code"] == "no_nav_feed"
    indexer.sync()
    assert sample(client.get("/metrics").text, "wellhead_gateway_settlement_lag_epochs", asset=str(site.asset_id)) == 0
    # the chain moves on and the index does not: not ready, and the lag shows
    rpc(w3, "anvil_mine", [hex(80)])
    behind = client.get("/readyz")
    assert behind.status_code == 503 and "blocks behind" in behind.json()["detail"]
    assert sample(client.get("/metrics").text, "wellhead_gateway_indexer_lag_blocks") == 80


def test_nav_rounds_through_the_gateway_and_by_the_keeper(
    w3: Web3,
    protocol: Protocol,
    actors: Actors,
    deployment: Deployment,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    from wellhead.agent.metrics import AgentMetrics
    from wellhead.agent.rpc import RpcPool
    from wellhead.keeper.metrics import KeeperMetrics
    from wellhead.keeper.service import KeeperState
    from wellhead.keeper.settler import Settler, SettlerConfig
    from wellhead.keeper.transactions import AccountSender

    desk = Desk(w3, protocol, actors)
    client = TestClient(create_app(Services.build(sessions, w3, deployment, domain="testserver")))
    Indexer(w3, deployment, sessions, confirmations=0).sync()
    body = {"from": actors.lender.address, "asset_id": desk.asset_id}
    desk.site.report_and_finalize(0, 10_000)
    prepared = prepare(client, "nav-update", body)
    assert prepared["contract"] == "NavOracle" and prepared["function"] == "update()"
    assert w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(HexStr(sign(actors.lender, prepared))))[
        "status"
    ]
    again = client.post("/api/v1/transactions/prepare/nav-update", json=body, headers=key())
    assert again.status_code == 409 and again.json()["code"] == "nav_round_not_due"
    # the keeper records the next round itself once the next epoch settles (and settles it, too)
    desk.site.warp_to(desk.site.epoch_end(1))
    desk.site.submit(desk.site.report(1, 10_000))
    desk.site.warp_to(desk.site.epoch_end(1) + 601)
    pool = RpcPool([w3.provider.endpoint_uri], deployment, AgentMetrics())  # type: ignore[attr-defined]
    keeper = Settler(pool, lambda _w3: [desk.asset_id], AccountSender(actors.admin, deployment.chain_id),
                     KeeperState(tmp_path / "k.sqlite"), KeeperMetrics(), SettlerConfig())  # fmt: skip
    rounds_before = len(desk.nav.events.NavUpdated().get_logs(from_block=0))
    for _ in range(3):
        keeper.run(float(w3.eth.get_block("latest")["timestamp"]))
    assert int(protocol.market.functions.ledgerOf(desk.asset_id).call().nextEpochToFinalize) == 2
    assert len(desk.nav.events.NavUpdated().get_logs(from_block=0)) == rounds_before + 1
