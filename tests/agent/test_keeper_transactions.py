"""The keeper's transactions under an adversarial mempool, on a real node: a transaction stuck under-priced is
replaced with higher fees (same nonce, mined once); a reverted one backs off instead of paying gas every pass;
a receipt found mid-pass sends nothing on stale reads; transactions signed before either is broadcast never
share a nonce; and readiness is never claimed before a pass has handled everything."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_typing import HexStr

from tests.agent.test_keeper import keeper, report_epochs, sent, settled
from tests.support.agent_env import AgentEnv
from wellhead.chain.client import send
from wellhead.chain.connection import rpc
from wellhead.core.errors import WellheadError
from wellhead.keeper.flight import Flight
from wellhead.keeper.service import Keeper, KeeperSettings
from wellhead.keeper.transactions import FEE_BUMP, AccountSender, SentTx, ceil_ratio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def in_flight(k: object, job: str) -> SentTx:
    stored = k.state.get(f"keeper:{job}")  # type: ignore[attr-defined]
    assert stored is not None, f"nothing in flight for {job}"
    return SentTx.loads(stored)


def value(k: object, name: str, labels: dict[str, str]) -> float:
    got = k.metrics.registry.get_sample_value(name, labels)  # type: ignore[attr-defined]
    return 0.0 if got is None else float(got)


def test_a_transaction_stuck_in_the_mempool_is_replaced_with_higher_fees(env: AgentEnv, tmp_path: Path) -> None:
    report_epochs(env, 2)
    k = keeper(env, env.admin, tmp_path / "k.sqlite")
    clock = Clock()
    k.flight.wall = clock
    now = float(env.now())
    rpc(env.w3, "evm_setAutomine", [False])
    try:
        k.run(now)
        first = in_flight(k, "finalize:1")
        assert sent(k) == 1
        clock.now += 119  # pending, not yet too long
        k.run(now)
        assert in_flight(k, "finalize:1") == first, "waited: replace_after is 120 s"
        clock.now += 1
        k.run(now)
        bumped = in_flight(k, "finalize:1")
        assert (bumped.nonce, bumped.to, bumped.data, bumped.gas) == (first.nonce, first.to, first.data, first.gas)
        assert bumped.hash != first.hash and bumped.earlier == (first.hash,)
        assert bumped.priority_fee >= ceil_ratio(first.priority_fee, FEE_BUMP) > first.priority_fee
        assert bumped.max_fee >= ceil_ratio(first.max_fee, FEE_BUMP) > first.max_fee
        assert value(k, "wellhead_keeper_replacements_total", {"kind": "finalize"}) == 1
        rpc(env.w3, "evm_mine", [])
    finally:
        rpc(env.w3, "evm_setAutomine", [True])
    k.run(now)
    assert env.w3.eth.get_transaction_receipt(HexStr(bumped.hash))["status"] == 1, "the replacement is the one mined"
    assert settled(env) == [0, 1], "settled once"
    assert value(k, "wellhead_keeper_transactions_total", {"kind": "finalize", "outcome": "mined"}) == 1
    assert sent(k) == 1, "a replacement is not a second send"


def test_a_reverted_transaction_backs_off_and_its_gas_limit_has_headroom(env: AgentEnv, tmp_path: Path) -> None:
    """The call succeeds when asked; a pause mined first makes the transaction revert. Sending again on every
    pass would pay for a revert every pass: the job waits 30 s, then 60 s after a second revert in a row."""
    k = keeper(env, env.admin, tmp_path / "k.sqlite")
    clock = Clock()
    k.flight.wall = clock
    coin = env.protocol.stablecoin
    pauser = Account.create()
    rpc(env.w3, "anvil_setBalance", [pauser.address, hex(10**20)])
    send(env.w3, env.admin, coin.functions.grantRole(coin.functions.PAUSER_ROLE().call(), pauser.address))
    send(env.w3, env.admin, coin.functions.mint(env.admin.address, 10))
    transfer = coin.functions.transfer(env.attestors[0].address, 1)

    def revert_once() -> None:
        """The keeper's transfer and a pause with a higher tip in one block: the pause goes first."""
        rpc(env.w3, "evm_setAutomine", [False])
        try:
            tx = k.flight.send(env.w3, "pay:1", "pay", transfer)
            estimate = transfer.estimate_gas({"from": env.admin.address})
            assert (tx.gas - 1) * 5 < estimate * 6 <= tx.gas * 5, "the estimate x 6/5, rounded up"
            pause = coin.functions.pause().build_transaction(
                {  # type: ignore[arg-type]
                    "from": pauser.address,
                    "nonce": env.w3.eth.get_transaction_count(pauser.address, "pending"),
                    "maxPriorityFeePerGas": tx.priority_fee * 10,
                    "maxFeePerGas": tx.max_fee * 10,
                }
            )
            env.w3.eth.send_raw_transaction(pauser.sign_transaction(pause).raw_transaction)
            rpc(env.w3, "evm_mine", [])
        finally:
            rpc(env.w3, "evm_setAutomine", [True])
        send(env.w3, pauser, coin.functions.unpause())  # the call would succeed again at once
        assert transfer.call({"from": env.admin.address})
        assert k.flight.clear(env.w3, "pay:1", "pay") is Flight.JUST_SETTLED

    revert_once()
    assert value(k, "wellhead_keeper_transactions_total", {"kind": "pay", "outcome": "reverted"}) == 1
    assert k.flight.clear(env.w3, "pay:1", "pay") is Flight.PENDING, "backing off"
    clock.now += 29
    assert k.flight.clear(env.w3, "pay:1", "pay") is Flight.PENDING
    clock.now += 1
    assert k.flight.clear(env.w3, "pay:1", "pay") is Flight.CLEAR, "30 s after the first revert"
    revert_once()
    clock.now += 59
    assert k.flight.clear(env.w3, "pay:1", "pay") is Flight.PENDING, "the second revert in a row doubles it"
    clock.now += 1
    assert k.flight.clear(env.w3, "pay:1", "pay") is Flight.CLEAR
    assert value(k, "wellhead_keeper_transactions_total", {"kind": "pay", "outcome": "reverted"}) == 2


def test_two_transactions_signed_before_either_is_broadcast_get_their_own_nonces(env: AgentEnv) -> None:
    """An RPC outage between record and broadcast, or a pool of nodes whose mempools lag each other: the node's
    pending count has not moved, the process's counter has."""
    sender = AccountSender(env.admin, env.w3.eth.chain_id)
    fn = env.protocol.stablecoin.functions.approve(env.attestors[0].address, 1)
    first, second = sender.sign(env.w3, fn), sender.sign(env.w3, fn)
    assert second.nonce == first.nonce + 1
    sender.resync()  # both given up: the node's count is the next nonce again, no gap left
    assert sender.sign(env.w3, fn).nonce == first.nonce


def test_a_receipt_found_mid_pass_sends_nothing_on_what_was_read_before_it(env: AgentEnv, tmp_path: Path) -> None:
    """The pass follows its transaction before it reads the chain: a block mined between the two cannot make
    it act on a read that predates its own transaction (here: the block is mined while the record is read)."""
    report_epochs(env, 2)
    k = keeper(env, env.admin, tmp_path / "k.sqlite")
    now = float(env.now())
    rpc(env.w3, "evm_setAutomine", [False])
    try:
        k.run(now)
        assert sent(k) == 1
        state_get = k.state.get

        def get_then_mine(key: str) -> str | None:
            got = state_get(key)
            if key == "keeper:finalize:1":
                rpc(env.w3, "evm_mine", [])
            return got

        k.state.get = get_then_mine  # type: ignore[method-assign]  # the settler and its InFlight share it
        k.run(now)
        k.run(now)
    finally:
        rpc(env.w3, "evm_setAutomine", [True])
    assert settled(env) == [0, 1]
    assert sent(k) == 1, "no second finalize on a stale read"


def test_the_keeper_is_not_ready_before_a_pass_has_handled_every_asset(
    env: AgentEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = KeeperSettings(
        deployment=env.deployment_path,
        rpc_urls=[env.anvil.url],
        keystore=tmp_path / "unused.json",
        password_file=tmp_path / "unused.password",
        data_dir=tmp_path,
        listen_port=0,
    )
    service = Keeper(settings, env.admin)
    try:
        monkeypatch.setattr(time, "monotonic", lambda: 5.0)  # a host booted five seconds ago
        assert service.readiness() == (False, "no pass has handled every asset yet")
        service.settler.assets = lambda w3: [999, env.asset_id]  # asset 999 reverts
        service.step()
        assert service.readiness()[0] is False, "a pass with a failing asset is no good pass"
        service.settler.assets = lambda w3: [env.asset_id]
        service.settler._last_pass = float("-inf")
        service.step()
        assert service.readiness() == (True, "ok")
    finally:
        service.close()


def test_an_agent_with_a_failing_phase_is_not_ready(env: AgentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    agent = env.agent(0)
    env.run_until([agent], lambda: agent.readiness()[0])
    failing = agent.phases[-1]

    def broken(now: float) -> None:
        raise WellheadError("evidence bucket unreachable")

    monkeypatch.setattr(failing, "run", broken)
    agent._last_good_pass = time.monotonic() - 3600  # the phase has failed for an hour
    agent.step()
    ready, detail = agent.readiness()
    assert not ready and detail.endswith(f"(failing: {failing.name})"), detail
