"""A node failing between taking a nonce and signing must leave no nonce unused: every later transaction would
queue behind the gap for good (found by review: the nonce was taken before the node filled in the fees)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from web3.exceptions import Web3RPCError

from tests.agent.test_keeper import keeper, report_epochs, sent, settled
from tests.support.agent_env import AgentEnv
from wellhead.keeper.transactions import AccountSender


def test_a_failure_while_building_the_transaction_leaves_no_nonce_gap(env: AgentEnv) -> None:
    sender = AccountSender(env.admin, env.w3.eth.chain_id)
    fn = env.protocol.stablecoin.functions.approve(env.attestors[0].address, 1)
    node_next = env.w3.eth.get_transaction_count(env.admin.address, "pending")
    real_get_block = env.w3.eth.get_block
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Web3RPCError("header not found")  # a node behind a load balancer, once
        return real_get_block(*args, **kwargs)

    env.w3.eth.get_block = flaky  # type: ignore[method-assign]
    try:
        with pytest.raises(Web3RPCError):
            sender.sign(env.w3, fn)  # nothing signed, nothing recorded, nothing broadcast
    finally:
        env.w3.eth.get_block = real_get_block  # type: ignore[method-assign]
    assert sender.sign(env.w3, fn).nonce == node_next, "the next transaction must not skip a nonce"


def test_a_keeper_pass_that_fails_while_signing_does_not_block_settlement(env: AgentEnv, tmp_path: Path) -> None:
    report_epochs(env, 2)
    k = keeper(env, env.admin, tmp_path / "k.sqlite")
    now = float(env.now())
    real_get_block = env.w3.eth.get_block
    calls = {"n": 0}
    w3s = list(k.chain._w3.values())  # type: ignore[attr-defined]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Web3RPCError("header not found")
        return real_get_block(*args, **kwargs)

    w3s[0].eth.get_block = flaky
    k.run(now)  # the asset is skipped this pass (counted): one transient error
    assert k.failures == 1 and sent(k) == 0
    clock = {"t": 1_000.0}
    k.flight.wall = lambda: clock["t"]
    for step in range(1, 10):  # 9 passes, 18 minutes: the stuck finalize is fee-bumped again and again
        clock["t"] += 120
        k.run(now + step)
        env.mine()
    assert sent(k) == 1
    bumps = k.metrics.registry.get_sample_value("wellhead_keeper_replacements_total", {"kind": "finalize"})
    assert settled(env) == [0, 1], "the finalize queued behind a nonce nobody will ever use"
    assert bumps is None, "mined at its first fees: nothing was stuck"
