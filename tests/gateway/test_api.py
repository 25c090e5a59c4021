"""The read API over a real index of a real chain (the demo's life cycle), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from tests.support.chain import Site
from wellhead.chain.client import Protocol, send
from wellhead.chain.connection import rpc
from wellhead.chain.deployment import Deployment
from wellhead.chain.observations import build_report
from wellhead.chain.reports import accepted_report
from wellhead.devkit.scenario import DEMAND_RESPONSE_CREDIT, Actors, Demo, DemoResult
from wellhead.gateway.app import create_app
from wellhead.gateway.index.indexer import Indexer
from wellhead.gateway.services import Services


@pytest.fixture(scope="module")
def demo_chain(w3: Web3, protocol: Protocol, actors: Actors) -> Iterator[DemoResult]:
    """The demo's life cycle and a second asset (for pagination), run once for the module inside its own anvil
    snapshot: each test's own snapshot is taken after it and reverted before the next test, and the module's
    is reverted at the end, so other modules never see these assets."""
    snapshot = rpc(w3, "evm_snapshot", [])
    result = Demo(w3, protocol, actors).run()
    Site(w3, protocol, actors)
    yield result
    rpc(w3, "evm_revert", [snapshot])


@pytest.fixture
def indexed(
    w3: Web3, demo_chain: DemoResult, deployment: Deployment, sessions: sessionmaker[Session]
) -> tuple[TestClient, DemoResult]:
    """The module's chain indexed into this test's own database (SQLite or PostgreSQL)."""
    Indexer(w3, deployment, sessions, confirmations=0).sync()
    return TestClient(create_app(Services.build(sessions, w3, deployment, domain="testserver"))), demo_chain


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


def test_settled_history_is_kept_a_minute_and_the_rest_revalidates(indexed: tuple[TestClient, DemoResult]) -> None:
    """A full page of settled epochs is kept a minute by any cache; the last page (it grows) and
    a page holding an unsettled epoch are revalidated by ETag, answered 304 for any matching tag."""
    client, result = indexed
    url = f"/api/v1/assets/{result.asset_id}/epochs"
    full = client.get(url, params={"limit": 2})
    assert full.json()["next_cursor"] and all(e["settled"] for e in full.json()["items"])
    assert full.headers["cache-control"] == "public, max-age=60"
    tag = full.headers["etag"]
    for sent in (tag, f'"other", W/{tag}', "*"):
        again = client.get(url, params={"limit": 2}, headers={"If-None-Match": sent})
        assert again.status_code == 304 and again.headers["etag"] == tag and again.content == b"", sent
    assert client.get(url, params={"limit": 2}, headers={"If-None-Match": '"other"'}).status_code == 200
    last = client.get(url)
    assert last.json()["next_cursor"] is None and last.headers["cache-control"] == "no-cache"
    assert client.get("/api/v1/assets").headers["cache-control"] == "no-cache"


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
    problem(client.get("/api/v1/leases", params={"lessee": "0x123"}), 422, "invalid_address", "lessee")
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
        *("getPositions", "listLiquidations", "getCreditMarkets", "getEvidence"),
        *("getSignInNonce", "signIn", "signOut", "listSessions", "revokeSession"),
        *("createApiKey", "listApiKeys", "revokeApiKey"),
        *("createWebhook", "listWebhooks", "deleteWebhook", "listWebhookDeliveries"),
        *("prepareOpenLease", "prepareExtendLease", "prepareCloseLease", "prepareClaimRefund"),
        *("prepareClaimRevenue", "prepareBuyShares", "prepareTransferShares", "prepareApprove", "preparePermit"),
        *("prepareAuthorization", "prepareSettle", "prepareNavUpdate"),
        *("relayTransaction", "getTransaction", "listGridEvents", "getAssetEnergy"),
    }


def test_positions_match_the_chain(
    indexed: tuple[TestClient, DemoResult], w3: Web3, protocol: Protocol, actors: Actors
) -> None:
    client, result = indexed
    investor = actors.investor_a.address
    body = client.get(f"/api/v1/accounts/{investor.lower()}/positions").json()
    assert body["address"] == investor
    shares = protocol.shares(result.asset_id).functions
    assert [h["asset_id"] for h in body["shares"]] == [result.asset_id, result.asset_id + 1]
    held = body["shares"][0]
    assert held["shares"]["base_units"] == str(shares.balanceOf(investor).call()) != "0"
    assert held["claimable_revenue"]["base_units"] == str(shares.claimable(investor).call())
    (credit,) = body["credit"]
    assert credit["debt"]["base_units"] == str(protocol.credit.functions.debtOf(result.asset_id, investor).call())
    assert credit["liquidations"] == 1 and credit["health_factor"] is not None
    assert (
        int(credit["collateral"]["base_units"])
        == protocol.credit.functions.positionOf(result.asset_id, investor).call().collateral
    )
    shares_liquidation, btc_liquidation = client.get("/api/v1/credit/liquidations").json()["items"]
    assert shares_liquidation["market"] == "capacity" and shares_liquidation["borrower"] == investor
    assert shares_liquidation["repaid"]["base_units"] == str(result.credit.repaid)
    assert btc_liquidation["market"] == "btc" and btc_liquidation["asset_id"] is None
    assert btc_liquidation["borrower"] == actors.operator.address
    assert btc_liquidation["seized"]["base_units"] == str(result.btc.seized)
    assert btc_liquidation["seized"]["decimal"].startswith("4.375"), "8 decimals: satoshi"
    miner = client.get(f"/api/v1/accounts/{actors.operator.address}/positions").json()["btc"]
    btc = protocol.btc_credit.functions
    assert miner["collateral"]["base_units"] == str(result.btc.pledged - result.btc.seized)
    assert miner["debt"]["base_units"] == str(btc.debtOf(actors.operator.address).call())
    assert miner["health_factor"] == str(btc.healthFactor(actors.operator.address).call())
    nobody = client.get(f"/api/v1/accounts/{actors.admin.address}/positions").json()
    assert nobody["shares"] == [] and nobody["credit"] == [] and nobody["btc"] is None
    problem(client.get("/api/v1/accounts/0xnothex/positions"), 422, "invalid_address", "account")


def test_credit_markets_show_caps_track_record_and_the_btc_market(
    indexed: tuple[TestClient, DemoResult], protocol: Protocol
) -> None:
    client, result = indexed
    body = client.get("/api/v1/credit/markets").json()
    (listed,) = body["capacity"]
    assert listed["asset_id"] == result.asset_id and listed["ltv_bps"] == 5_000
    credit = protocol.credit.functions
    assert listed["caps"]["borrow_cap"]["base_units"] == str(result.credit.supplied)
    assert listed["caps"]["borrow_used"]["base_units"] == str(credit.assetDebt(result.asset_id).call())
    assert listed["caps"]["supply_used"]["base_units"] == str(
        credit.collateralRevenue(result.asset_id).call().totalCollateral
    )
    feed = listed["feed"]
    assert (feed["window_epochs"], feed["track_record_windows"], feed["lending_life_windows"]) == (1, 2, 3)
    assert feed["seasoned"] and feed["full_windows"] == 2
    assert feed["lending_price"]["base_units"] == str(result.credit.lending[max(result.credit.lending)])
    assert feed["nav"]["base_units"] == str(result.credit.nav[max(result.credit.nav)]), "the NAV, beside it"
    btc = body["btc"]
    assert btc["price_per_btc"]["base_units"] == str(result.btc.price_after_drop) and btc["price_usable"] in (
        True,
        False,
    )
    assert btc["heartbeat_seconds"] == 3_600 and btc["sequencer_feed"] is None
    assert btc["caps"]["supply_used"]["base_units"] == str(result.btc.pledged - result.btc.seized)
    assert btc["liquidity"]["base_units"] == str(protocol.btc_credit.functions.idle().call())
    nav = client.get(f"/api/v1/assets/{result.asset_id}/nav").json()["items"]
    assert [n["full_windows"] for n in nav] == [1, 2, 2, 2, 2], "the track record builds a window an epoch, up to K"
    assert nav[-1]["lending_price"]["base_units"] == str(result.credit.lending[4])


def test_evidence_is_served_only_when_it_matches_its_hash(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session], tmp_path: Any
) -> None:
    import hashlib

    site = Site(w3, protocol, actors)
    data = b"wellhead-evidence/1 " * 100
    digest = hashlib.sha256(data).digest()
    site.warp_to(site.epoch_end(0))
    # attestor 2's observation carries this evidence and is the median one (ties: the middle position)
    signed = [
        site.signed(0, site.observation(i, evidenceHash=digest if i == 2 else bytes([i]) * 32)) for i in (1, 2, 3)
    ]
    site.submit(build_report(site.asset_id, 0, b"\0" * 32, signed))
    Indexer(w3, deployment, sessions, confirmations=0).sync()
    (tmp_path / f"{digest.hex()}.npz").write_bytes(data)
    services = Services.build(sessions, w3, deployment, domain="testserver", evidence_dirs=(tmp_path,))
    client = TestClient(create_app(services))

    served = client.get(f"/api/v1/evidence/0x{digest.hex()}")
    assert served.status_code == 200 and served.content == data
    assert served.headers["x-evidence-sha256"] == digest.hex()
    epoch = client.get(f"/api/v1/assets/{site.asset_id}/epochs").json()["items"][0]
    assert epoch["evidence_hash"] == "0x" + digest.hex() and len(epoch["signers"]) == 2
    assert [o["observer"] for o in epoch["observations"]] == [1, 2, 3], "every attestor's observation"
    assert epoch["observations"][1]["evidence_hash"] == "0x" + digest.hex()
    assert epoch["observations"][0]["attestor"] == actors.attestors[0].address
    assert epoch["report_status"] == "pending" and epoch["attestation"]["cosigners"] == [1, 2]
    # another attestor's evidence is served too: every observation's evidence is behind the payout
    other = bytes([1]) * 32
    (tmp_path / f"{other.hex()}.npz").write_bytes(b"other")
    problem(client.get(f"/api/v1/evidence/{other.hex()}"), 502, "evidence_corrupt", "evidence_hash")

    (tmp_path / f"{digest.hex()}.npz").write_bytes(data + b"tampered")
    problem(client.get(f"/api/v1/evidence/{digest.hex()}"), 502, "evidence_corrupt", "evidence_hash")
    (tmp_path / f"{digest.hex()}.npz").unlink()
    problem(client.get(f"/api/v1/evidence/{digest.hex()}"), 404, "evidence_not_available", "evidence_hash")
    problem(client.get(f"/api/v1/evidence/{'ab' * 32}"), 404, "evidence_unknown", "evidence_hash")
    problem(client.get("/api/v1/evidence/xyz"), 422, "invalid_hash", "evidence_hash")


def test_cached_answers_revalidate_and_follow_the_index(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    from wellhead.devkit.scenario.actors import FIRM

    site = Site(w3, protocol, actors)
    indexer = Indexer(w3, deployment, sessions, confirmations=0)
    indexer.sync()
    client = TestClient(create_app(Services.build(sessions, w3, deployment, domain="testserver")))
    first = client.get("/api/v1/assets", params={"limit": 100})
    etag, assets = first.headers["etag"], len(first.json()["items"])
    assert client.get("/api/v1/assets", params={"limit": 100}, headers={"If-None-Match": etag}).status_code == 304
    before = len(client.get("/api/v1/leases", params={"limit": 500}).json()["items"])

    site.open_lease(actors.lessee_firm, 8, 2, FIRM)
    Site(w3, protocol, actors)
    indexer.sync()  # the index moved: the cached answers are stale
    assert len(client.get("/api/v1/leases", params={"limit": 500}).json()["items"]) == before + 1
    again = client.get("/api/v1/assets", params={"limit": 100}, headers={"If-None-Match": etag})
    assert again.status_code == 200 and len(again.json()["items"]) == assets + 1 and again.headers["etag"] != etag


# ---------------------------------------------------------------- energy: grid events, hybrid split, green
def _reports(protocol: Protocol, asset_id: int) -> dict[int, dict[str, int]]:
    """Each accepted report's medians of every field, from the observations its transaction carried."""
    logs = protocol.oracle.events.ReportAccepted().get_logs(from_block=0, argument_filters={"assetId": asset_id})
    out = {}
    for log in logs:
        accepted = accepted_report(protocol.w3, protocol.oracle, log)
        out[accepted.epoch] = accepted.aggregate.model_dump(by_alias=True)
    return out


def test_grid_events_carry_their_income(indexed: tuple[TestClient, DemoResult]) -> None:
    client, result = indexed
    body = client.get(f"/api/v1/assets/{result.asset_id}/grid-events").json()
    [event] = body["items"]
    declared = result.grid_events[0]
    assert (event["source"], event["starts_at"], event["ends_at"]) == ("manual", declared.starts_at, declared.ends_at)
    assert event["energy_income"]["base_units"] == str(DEMAND_RESPONSE_CREDIT)
    assert event["holders_income"]["base_units"] == str(declared.holders_income)


def test_revenue_per_kwh_of_each_use(indexed: tuple[TestClient, DemoResult], protocol: Protocol) -> None:
    client, result = indexed
    reports = _reports(protocol, result.asset_id)
    delivered = {r.epoch: r.delivered for r in result.epochs}
    epochs = {e["epoch"]: e for e in client.get(f"/api/v1/assets/{result.asset_id}/epochs").json()["items"]}
    for epoch, r in reports.items():
        e = epochs[epoch]
        load = r["gpuEnergyWh"] + r["miningEnergyWh"]
        mining_share = r["facilityEnergyWh"] * r["miningEnergyWh"] // load
        ai_share = r["facilityEnergyWh"] - mining_share
        assert e["mining_revenue"]["base_units"] == str(r["miningRevenue"])
        assert e["ai_energy_wh"] == str(ai_share)
        assert e["mining_revenue_per_kwh"]["base_units"] == str(r["miningRevenue"] * 1000 // mining_share)
        assert e["ai_revenue_per_kwh"]["base_units"] == str(delivered[epoch] * 1000 // ai_share)
        assert e["carbon_free_energy_wh"] == str(r["facilityEnergyWh"] * r["renewableBps"] // 10_000)
    summary = client.get(f"/api/v1/assets/{result.asset_id}/energy").json()
    assert summary["epochs"] == len(reports)
    assert summary["mining_revenue"]["base_units"] == str(sum(r["miningRevenue"] for r in reports.values()))
    assert summary["ai_revenue"]["base_units"] == str(sum(delivered[e] for e in reports))
    assert summary["energy_income"]["base_units"] == str(DEMAND_RESPONSE_CREDIT)
    # AI capacity earns far more per kWh than the miners beside it: the reason these sites convert
    ai, mining = (int(summary[k]["base_units"]) for k in ("ai_revenue_per_kwh", "mining_revenue_per_kwh"))
    assert ai > 10 * mining > 0


def test_certificates_and_carbon_free_energy_per_lease(
    indexed: tuple[TestClient, DemoResult], protocol: Protocol, w3: Web3
) -> None:
    client, result = indexed
    retired = protocol.grid.events.CertificateRetired().get_logs(
        from_block=0, argument_filters={"assetId": result.asset_id}
    )
    summary = client.get(f"/api/v1/assets/{result.asset_id}/energy").json()
    assert summary["certificates_retired"] == len(retired) > 0
    assert summary["certificate_energy_wh"] == str(sum(c["args"]["energyWh"] for c in retired))

    reports = _reports(protocol, result.asset_id)
    gpus = protocol.registry.functions.terms(result.asset_id).call().gpuCount
    leases = client.get(f"/api/v1/leases?asset_id={result.asset_id}").json()["items"]
    assert leases
    for lease in leases:
        wh = green = 0
        for epoch in range(lease["start_epoch"], lease["end_epoch"]):
            r = reports.get(epoch)
            if r is None:
                continue  # no report, no energy claimed
            load = r["gpuEnergyWh"] + r["miningEnergyWh"]
            ai = r["facilityEnergyWh"] - r["facilityEnergyWh"] * r["miningEnergyWh"] // load
            used = ai * lease["gpus"] // gpus
            wh += used
            green += used * r["renewableBps"] // 10_000
        assert (lease["energy_wh"], lease["carbon_free_energy_wh"]) == (str(wh), str(green))
        assert int(lease["carbon_free_energy_wh"]) > 0
        single = client.get(f"/api/v1/leases/{lease['id']}").json()
        assert single["carbon_free_energy_wh"] == lease["carbon_free_energy_wh"]


def test_energy_summary_counts_only_settled_epochs(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    """A reported epoch still inside its challenge window has energy but no settled revenue yet: dividing
    settled revenue by its energy would understate revenue per kWh, so it waits until it settles."""
    from wellhead.devkit.scenario.actors import FIRM

    site = Site(w3, protocol, actors)
    site.open_lease(actors.lessee_firm, 8, 3, FIRM)
    site.skip_and_finalize(0)
    site.report_and_finalize(1, 9_000)
    site.warp_to(site.epoch_end(2))
    site.submit(site.report(2, 10_000, gpuEnergyWh=40_000, facilityEnergyWh=50_000))
    indexer = Indexer(w3, deployment, sessions, confirmations=0)
    indexer.sync()
    client = TestClient(create_app(Services.build(sessions, w3, deployment, domain="testserver")))

    epochs = {e["epoch"]: e for e in client.get(f"/api/v1/assets/{site.asset_id}/epochs").json()["items"]}
    assert (epochs[2]["reported"], epochs[2]["settled"]) == (True, False)
    summary = client.get(f"/api/v1/assets/{site.asset_id}/energy").json()
    assert summary["epochs"] == 1
    assert summary["ai_energy_wh"] == epochs[1]["ai_energy_wh"] == "36000"
    assert summary["ai_revenue"] == epochs[1]["delivered"]

    site.warp_to(site.epoch_end(2) + 600 + 1)
    send(w3, actors.admin, protocol.market.functions.finalizeEpoch(site.asset_id, 2))
    indexer.sync()
    epochs = {e["epoch"]: e for e in client.get(f"/api/v1/assets/{site.asset_id}/epochs").json()["items"]}
    summary = client.get(f"/api/v1/assets/{site.asset_id}/energy").json()
    assert summary["epochs"] == 2
    assert summary["ai_energy_wh"] == str(36_000 + 50_000)
    delivered = sum(int(epochs[e]["delivered"]["base_units"]) for e in (1, 2))
    assert summary["ai_revenue"]["base_units"] == str(delivered) != epochs[1]["delivered"]["base_units"]
