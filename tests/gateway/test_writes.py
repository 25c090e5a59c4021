"""Writes without custody on a real anvil: a lease opened, topped up and closed purely through transactions
the gateway prepared and the test signed with eth-account; permits; and bad input refused, nothing relayed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from tests.gateway.test_api import problem
from tests.support.chain import Site
from tests.support.wallet import DOMAIN, key, prepare, relay, sign, sign_and_relay, sign_in
from wellhead.chain.artifacts import abi
from wellhead.chain.client import Protocol, send
from wellhead.chain.deployment import Deployment
from wellhead.devkit.scenario import Actors
from wellhead.devkit.scenario.actors import USDC
from wellhead.gateway.app import create_app
from wellhead.gateway.index.indexer import Indexer
from wellhead.gateway.services import Services


@dataclass
class Env:
    client: TestClient
    indexer: Indexer
    site: Site
    w3: Web3
    protocol: Protocol
    actors: Actors


@pytest.fixture
def env(w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]) -> Env:
    site = Site(w3, protocol, actors)
    indexer = Indexer(w3, deployment, sessions, confirmations=0)
    indexer.sync()
    services = Services.build(sessions, w3, deployment, domain=DOMAIN, confirmations=1)
    return Env(TestClient(create_app(services)), indexer, site, w3, protocol, actors)


def lease_of(env: Env, lease_id: int) -> dict[str, Any]:
    env.indexer.sync()
    body: dict[str, Any] = env.client.get(f"/api/v1/leases/{lease_id}").json()
    return body


def test_lease_opened_topped_up_and_closed_through_the_gateway(env: Env) -> None:
    lessee = env.actors.lender  # funded by the demo; its allowance is revoked first, through the gateway too
    auth = sign_in(env.client, lessee)
    asset = env.site.asset_id
    revoke = prepare(
        env.client,
        "approve",
        {"from": lessee.address, "token": "stablecoin", "spender": "LeaseMarket", "amount": {"base_units": "0"}},
    )
    sign_and_relay(env.client, auth, lessee, revoke)

    body = {"from": lessee.address, "asset_id": asset, "gpus": 4, "epochs": 3, "lease_class": "firm"}
    refused = env.client.post("/api/v1/transactions/prepare/open-lease", json=body, headers=key())
    problem(refused, 422, "allowance_too_low", "from")

    approve = prepare(
        env.client,
        "approve",
        {"from": lessee.address, "token": "stablecoin", "spender": "LeaseMarket", "amount": {"decimal": "100000"}},
    )
    assert approve["amounts"]["amount"] == {"base_units": str(100_000 * USDC), "decimal": "100000.000000"}
    sign_and_relay(env.client, auth, lessee, approve)

    before = env.protocol.stablecoin.functions.balanceOf(lessee.address).call()
    opened = prepare(env.client, "open-lease", body)
    assert (
        opened["contract"] == "LeaseMarket" and opened["function"] == "openLease(uint256,uint32,uint64,uint8,uint256)"
    )
    assert opened["transaction"]["to"] == env.protocol.market.address
    prepaid = int(opened["amounts"]["prepaid"]["base_units"])
    status = sign_and_relay(env.client, auth, lessee, opened)
    assert status["sender"] == lessee.address and status["gas_used"] > 0
    assert before - env.protocol.stablecoin.functions.balanceOf(lessee.address).call() == prepaid

    env.indexer.sync()
    leases = env.client.get("/api/v1/leases", params={"lessee": lessee.address}).json()["items"]
    assert len(leases) == 1 and leases[0]["prepaid"]["base_units"] == str(prepaid)
    lease_id, start, end = leases[0]["id"], leases[0]["start_epoch"], leases[0]["end_epoch"]

    topped = prepare(env.client, "extend-lease", {"from": lessee.address, "lease_id": lease_id, "epochs": 2})
    assert topped["amounts"]["paid"]["base_units"] == str(prepaid // 3 * 2)
    sign_and_relay(env.client, auth, lessee, topped)
    lease = lease_of(env, lease_id)
    assert lease["end_epoch"] == end + 2 and lease["prepaid"]["base_units"] == str(prepaid // 3 * 5)

    closing = prepare(env.client, "close-lease", {"from": lessee.address, "lease_id": lease_id})
    sign_and_relay(env.client, auth, lessee, closing)
    lease = lease_of(env, lease_id)
    assert lease["end_epoch"] == start, "closed before it started: cancelled"
    rate = prepaid // 3
    assert lease["closed_refund"]["base_units"] == str(rate * 4), "everything back but one epoch's charge"
    assert env.protocol.stablecoin.functions.balanceOf(lessee.address).call() == before - rate * 5, (
        "closing pays nobody: the refund stays with the lease"
    )
    claiming = prepare(env.client, "claim-refund", {"from": lessee.address, "lease_id": lease_id})
    assert claiming["amounts"]["refund"]["base_units"] == str(rate * 4)
    sign_and_relay(env.client, auth, lessee, claiming)
    assert env.protocol.stablecoin.functions.balanceOf(lessee.address).call() == before - rate, (
        "cancelling cost an epoch"
    )


def test_a_permit_signed_from_the_prepared_typed_data_is_accepted_on_chain(env: Env) -> None:
    owner, spender, sender = env.actors.lender, env.actors.liquidator, env.actors.admin
    deadline = int(time.time()) + 3_600
    body = {
        "owner": owner.address,
        "token": "stablecoin",
        "spender": spender.address,
        "amount": {"decimal": "12.5"},
        "deadline": deadline,
    }
    response = env.client.post("/api/v1/transactions/prepare/permit", json=body, headers=key())
    assert response.status_code == 200, response.text
    typed = response.json()["typed_data"]
    signed = Account.sign_typed_data(owner.key, full_message=typed)
    coin = env.protocol.stablecoin.functions
    send(
        env.w3,
        sender,
        coin.permit(
            owner.address,
            spender.address,
            12_500_000,
            deadline,
            signed.v,
            signed.r.to_bytes(32, "big"),
            signed.s.to_bytes(32, "big"),
        ),
    )
    assert coin.allowance(owner.address, spender.address).call() == 12_500_000


def test_an_authorization_signed_from_the_prepared_typed_data_pays_through_the_router(env: Env) -> None:
    owner = env.actors.lender
    valid_before = int(time.time()) + 3_600
    body = {"owner": owner.address, "amount": {"decimal": "250"}, "valid_before": valid_before}
    response = env.client.post("/api/v1/transactions/prepare/authorization", json=body, headers=key())
    assert response.status_code == 200, response.text
    prepared = response.json()
    router = env.w3.eth.contract(address=env.protocol.deployment.address("PaymentRouter"), abi=abi("PaymentRouter"))
    assert prepared["typed_data"]["message"]["to"] == router.address, "the router receives it by default"
    signed = Account.sign_typed_data(owner.key, full_message=prepared["typed_data"])
    nonce = bytes.fromhex(prepared["nonce"][2:])
    payment = (
        1,
        250 * USDC,
        0,
        valid_before,
        nonce,
        signed.v,
        signed.r.to_bytes(32, "big"),
        signed.s.to_bytes(32, "big"),
    )
    credit = env.protocol.credit
    before = credit.functions.maxWithdraw(owner.address).call()
    send(env.w3, owner, router.functions.supply(payment, credit.address, 250 * USDC))
    assert credit.functions.maxWithdraw(owner.address).call() - before in (250 * USDC, 250 * USDC - 1), "supplied"
    late = {**body, "valid_before": int(time.time()) - 1}
    problem(
        env.client.post("/api/v1/transactions/prepare/authorization", json=late, headers=key()),
        422,
        "deadline_passed",
        "valid_before",
    )


def test_bad_input_names_the_field_and_relays_nothing(env: Env) -> None:
    lessee = env.actors.lessee_firm
    auth = sign_in(env.client, lessee)
    asset = env.site.asset_id
    c = env.client

    def post(action: str, body: dict[str, Any]) -> Any:
        return c.post(f"/api/v1/transactions/prepare/{action}", json=body, headers=key())

    base = {"from": lessee.address, "asset_id": asset, "gpus": 1, "epochs": 1}
    problem(post("open-lease", {**base, "from": "0x1234"}), 422, "invalid_address", "from")
    problem(post("open-lease", {**base, "asset_id": 999}), 404, "asset_not_found", "asset_id")
    problem(post("open-lease", {**base, "gpus": -1}), 422, "invalid_parameter", "gpus")
    problem(post("open-lease", {**base, "gpus": 2**40}), 422, "invalid_parameter", "gpus")
    problem(
        post("open-lease", {**base, "max_price_per_gpu_hour": {"decimal": "1.0000001"}}),
        422,
        "invalid_amount",
        "max_price_per_gpu_hour.decimal",
    )
    problem(
        post("open-lease", {**base, "max_price_per_gpu_hour": {"base_units": "-5"}}),
        422,
        "invalid_parameter",
        "max_price_per_gpu_hour.base_units",
    )
    problem(
        post("open-lease", {**base, "max_price_per_gpu_hour": {"base_units": str(2**300)}}),
        422,
        "invalid_parameter",
        "max_price_per_gpu_hour.base_units",
    )
    problem(
        post("open-lease", {**base, "max_price_per_gpu_hour": {"base_units": str(2**256)}}),
        422,
        "amount_out_of_range",
        "max_price_per_gpu_hour",
    )
    too_many = post("open-lease", {**base, "gpus": 65})
    problem(too_many, 422, "would_revert")
    assert "MarketCapacityExceeded" in too_many.json()["detail"] and "available=64" in too_many.json()["detail"]
    problem(
        post("transfer-shares", {"from": lessee.address, "asset_id": asset, "to": "nope", "shares": {"decimal": "1"}}),
        422,
        "invalid_address",
        "to",
    )
    problem(
        post(
            "approve", {"from": lessee.address, "token": "gold", "spender": "LeaseMarket", "amount": {"decimal": "1"}}
        ),
        422,
        "invalid_token",
        "token",
    )

    # a good transaction, but signed for another chain, or sent to a contract that is not Wellhead's
    lease_id = env.site.open_lease(lessee, 1, 2, 0)
    env.indexer.sync()
    prepared = prepare(c, "close-lease", {"from": lessee.address, "lease_id": lease_id})
    nonce = env.w3.eth.get_transaction_count(lessee.address)
    problem(
        relay(c, auth, sign(lessee, prepared, chainId=prepared["transaction"]["chainId"] + 1)),
        422,
        "wrong_chain",
        "raw_transaction",
    )
    problem(
        relay(c, auth, sign(lessee, prepared, to=env.actors.admin.address)), 422, "unknown_contract", "raw_transaction"
    )
    problem(relay(c, auth, "0x02abcdef"), 422, "malformed_transaction", "raw_transaction")
    problem(relay(c, auth, "0xzz"), 422, "invalid_parameter", "raw_transaction")
    assert env.w3.eth.get_transaction_count(lessee.address) == nonce, "nothing relayed"
    problem(
        c.post("/api/v1/transactions", json={"raw_transaction": sign(lessee, prepared)}, headers=key()),
        401,
        "authentication_required",
    )
    problem(c.get("/api/v1/transactions/0x" + "ab" * 32), 404, "transaction_not_found", "hash")


def test_idempotency_key_replays_the_first_answer(env: Env) -> None:
    lessee = env.actors.lessee_firm
    auth = sign_in(env.client, lessee)
    c = env.client
    body = {"from": lessee.address, "asset_id": env.site.asset_id, "gpus": 2, "epochs": 1}
    problem(
        c.post("/api/v1/transactions/prepare/open-lease", json=body), 400, "idempotency_key_required", "Idempotency-Key"
    )
    headers = key()
    first = c.post("/api/v1/transactions/prepare/open-lease", json=body, headers=headers)
    again = c.post("/api/v1/transactions/prepare/open-lease", json=body, headers=headers)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    problem(
        c.post("/api/v1/transactions/prepare/open-lease", json={**body, "gpus": 3}, headers=headers),
        422,
        "idempotency_key_reused",
        "Idempotency-Key",
    )

    # a relay retried with its key is answered from the record, and the node sees the transaction once
    raw = sign(lessee, first.json())
    relay_key = {**auth, **key()}
    sent = c.post("/api/v1/transactions", json={"raw_transaction": raw}, headers=relay_key)
    retried = c.post("/api/v1/transactions", json={"raw_transaction": raw}, headers=relay_key)
    assert sent.status_code == retried.status_code == 202 and retried.json()["hash"] == sent.json()["hash"]
    assert retried.headers["Idempotent-Replayed"] == "true"
