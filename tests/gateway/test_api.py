"""The read API over a real index of a real chain (the demo's life cycle), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from tests.helpers import Site
from wellhead.chain.client import Protocol
from wellhead.chain.deployment import Deployment
from wellhead.demo import Actors, Demo, DemoResult
from wellhead.gateway.api import create_app
from wellhead.gateway.indexer import Indexer
from wellhead.gateway.services import Services


@pytest.fixture
def indexed(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> tuple[TestClient, DemoResult]:
    result = Demo(w3, protocol, actors).run()
    Site(w3, protocol, actors)  # a second asset, for pagination
    Indexer(w3, deployment, sessions, confirmations=0).sync()
    return TestClient(create_app(Services.build(sessions, w3, deployment, domain="testserver"))), result


def problem(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status
    if field is not None:
        assert body["field"] == field, body


def test_assets_paginate(indexed: tuple[TestClient, DemoResult]) -> None:
    client, result = indexed
    first = client.get("/api/v1/assets", params={"limit": 1}).json()
    assert [a["id"] for a in first["items"]] == [result.asset_id]
    assert first["items"][0]["gpu_class"] == "H100-SXM" and first["items"][0]["status"] == "active"
    second = client.get("/api/v1/assets", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [a["id"] for a in second["items"]] == [result.asset_id + 1]
    assert second["next_cursor"] is None
    assert client.get(f"/api/v1/assets/{result.asset_id}").json()["nav_feed"] is not None


def test_epoch_history_with_time_filters(indexed: tuple[TestClient, DemoResult]) -> None:
    client, result = indexed
    epochs = client.get(f"/api/v1/assets/{result.asset_id}/epochs").json()["items"]
    assert [e["epoch"] for e in epochs] == [r.epoch for r in result.epochs]
    for e, r in zip(epochs, result.epochs, strict=True):
        assert e["proven"] == r.proven and e["uptime_bps"] == r.uptime_bps
        assert e["holders_revenue"]["base_units"] == str(r.holders)
        assert e["delivered"]["decimal"] == f"{r.delivered // 10**6}.{r.delivered % 10**6:06d}"
        if r.proven:
            assert int(e["revenue_per_kwh"]["base_units"]) == r.holders * 1_000 // int(e["facility_energy_wh"])
            assert len(e["signers"]) >= 2
    window = client.get(
        f"/api/v1/assets/{result.asset_id}/epochs",
        params={"from": epochs[1]["ends_at"] - 1, "to": epochs[3]["starts_at"]},
    ).json()["items"]
    assert [e["epoch"] for e in window] == [1, 2]
    page = client.get(f"/api/v1/assets/{result.asset_id}/epochs", params={"limit": 2}).json()
    rest = client.get(f"/api/v1/assets/{result.asset_id}/epochs", params={"cursor": page["next_cursor"]}).json()
    assert [e["epoch"] for e in page["items"] + rest["items"]] == [r.epoch for r in result.epochs]


def test_leases_by_lessee_and_nav(indexed: tuple[TestClient, DemoResult], actors: Actors, protocol: Protocol) -> None:
    client, result = indexed
    firm = client.get("/api/v1/leases", params={"lessee": actors.lessee_firm.address.lower()}).json()["items"]
    assert len(firm) == 1 and firm[0]["lease_class"] == "firm"
    assert firm[0]["refunded"]["base_units"] == str(result.lessees["firm 32 GPUs"]["refund"])
    assert firm[0]["service_credit"]["base_units"] == str(result.lessees["firm 32 GPUs"]["credit"])
    by_asset = client.get("/api/v1/leases", params={"asset_id": result.asset_id}).json()["items"]
    assert len(by_asset) == 2
    assert client.get(f"/api/v1/leases/{firm[0]['id']}").json() == firm[0]
    nav = client.get(f"/api/v1/assets/{result.asset_id}/nav").json()["items"]
    assert [int(n["price_per_share"]["base_units"]) for n in nav] == [p for _, p in sorted(result.credit.nav.items())]


def test_bad_input_is_a_problem_naming_the_field(indexed: tuple[TestClient, DemoResult]) -> None:
    client, _ = indexed
    problem(client.get("/api/v1/leases", params={"lessee": "0x123"}), 400, "invalid_address", "lessee")
    problem(client.get("/api/v1/assets", params={"cursor": "not-a-cursor"}), 400, "invalid_cursor", "cursor")
    problem(client.get("/api/v1/assets", params={"limit": 0}), 422, "invalid_parameter", "limit")
    problem(client.get("/api/v1/assets", params={"limit": 10**30}), 422, "invalid_parameter", "limit")
    problem(client.get("/api/v1/assets/999"), 404, "asset_not_found", "asset_id")
    problem(client.get(f"/api/v1/assets/{2**70}"), 404, "asset_not_found", "asset_id")
    problem(client.get("/api/v1/assets/-1/epochs"), 404, "asset_not_found", "asset_id")
    problem(client.get("/api/v1/assets/abc"), 422, "invalid_parameter", "asset_id")
    problem(client.get("/api/v1/leases/0"), 404, "lease_not_found", "lease_id")
    problem(client.get("/api/v1/nowhere"), 404, "not_found")


def test_openapi_has_stable_operation_ids(indexed: tuple[TestClient, DemoResult]) -> None:
    client, _ = indexed
    spec = client.get("/openapi.json").json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert ids == {
        *("listAssets", "getAsset", "listAssetEpochs", "listNavRounds", "listLeases", "getLease"),
        *("getPositions", "listLiquidations", "getEvidence"),
        *("getSignInNonce", "signIn", "createApiKey", "listApiKeys", "revokeApiKey"),
        *("createWebhook", "listWebhooks", "deleteWebhook", "listWebhookDeliveries"),
        *("prepareOpenLease", "prepareExtendLease", "prepareCloseLease", "prepareClaimRefund"),
        *("prepareClaimRevenue", "prepareBuyShares", "prepareTransferShares", "prepareApprove", "preparePermit"),
        *("relayTransaction", "getTransaction"),
    }
