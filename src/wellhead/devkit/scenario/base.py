"""The scenario's hands on the chain: send as an actor, move anvil's clock, read balances and epoch bounds."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract.contract import ContractFunction

from wellhead.chain.client import Protocol, send
from wellhead.chain.connection import rpc
from wellhead.devkit.scenario.actors import Actors


class ScenarioBase:
    """One asset's scenario on a dev chain that can move time (anvil)."""

    def __init__(self, w3: Web3, protocol: Protocol, actors: Actors, asset_id: int = 0) -> None:
        self.w3 = w3
        self.p = protocol
        self.a = actors
        self.asset_id = asset_id

    def send(self, who: LocalAccount, fn: ContractFunction) -> dict[str, Any]:
        """Sends `fn` from `who` and waits for its receipt (a revert raises ContractRevertError)."""
        return dict(send(self.w3, who, fn))

    def now(self) -> int:
        """The latest block's timestamp."""
        ts: int = self.w3.eth.get_block("latest")["timestamp"]
        return ts

    def warp_to(self, timestamp: int) -> None:
        """Mines a block at `timestamp` if the chain is behind it (time never goes back)."""
        if timestamp > self.now():
            rpc(self.w3, "evm_setNextBlockTimestamp", [timestamp])
            rpc(self.w3, "evm_mine", [])

    def balance(self, who: str) -> int:
        """`who`'s stablecoin balance in base units."""
        result: int = self.p.stablecoin.functions.balanceOf(who).call()
        return result

    def epoch_end(self, epoch: int) -> int:
        """The timestamp at which the asset's `epoch` ends."""
        result: int = self.p.registry.functions.epochEnd(self.asset_id, epoch).call()
        return result
