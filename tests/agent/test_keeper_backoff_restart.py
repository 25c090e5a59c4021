"""The backoff after a revert is kept in the keeper's state: a restarted keeper does not pay for the same revert
again at once (found by review: it lived in memory only, and a crash-looping keeper paid for one per restart)."""

from __future__ import annotations

from pathlib import Path

from eth_typing import HexStr

from tests.support.agent_env import AgentEnv
from wellhead.keeper.flight import Flight, InFlight
from wellhead.keeper.metrics import KeeperMetrics
from wellhead.keeper.service import KeeperState
from wellhead.keeper.transactions import AccountSender, _signed


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_revert_backoff_survives_a_restart(env: AgentEnv, tmp_path: Path) -> None:
    coin = env.protocol.stablecoin
    sender = AccountSender(env.admin, env.w3.eth.chain_id)
    state = KeeperState(tmp_path / "k.sqlite")
    clock = Clock()
    first = InFlight(sender, state, KeeperMetrics(), wall=clock)
    # a transfer of more than the keeper holds, with its gas set: mined, reverted (as a call that succeeded when
    # asked and lost a race would be)
    fn = coin.functions.transfer(env.attestors[0].address, 10**30)
    tx = fn.build_transaction(
        {
            "from": env.admin.address,
            "gas": 200_000,
            "chainId": env.w3.eth.chain_id,
            "nonce": env.w3.eth.get_transaction_count(env.admin.address, "pending"),
        }
    )
    sent = _signed(env.admin, dict(tx))
    state.put("keeper:pay:1", sent.dumps())
    env.w3.eth.send_raw_transaction(HexStr(sent.raw))
    assert env.w3.eth.wait_for_transaction_receipt(HexStr(sent.hash), timeout=30)["status"] == 0  # mined a moment after
    assert first.clear(env.w3, "pay:1", "pay") is Flight.JUST_SETTLED
    assert first.clear(env.w3, "pay:1", "pay") is Flight.PENDING, "backing off for 30 s"
    clock.now += 1
    restarted = InFlight(sender, state, KeeperMetrics(), wall=clock)  # the same state file, a second later
    assert restarted.clear(env.w3, "pay:1", "pay") is Flight.PENDING, "the backoff was lost with the process"
