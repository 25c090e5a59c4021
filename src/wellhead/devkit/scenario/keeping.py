"""The demo's keeper: the product's `Settler` (what `wellhead keeper` and the site agent run), driven by the
story instead of a loop, with the protocol's contracts and an in-memory state."""

from __future__ import annotations

import json
from collections.abc import Callable

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.contract import Contract

from wellhead.chain.client import Protocol
from wellhead.keeper.metrics import KeeperMetrics
from wellhead.keeper.settler import Settler, SettlerConfig
from wellhead.keeper.transactions import AccountSender


class _Chain:
    def __init__(self, protocol: Protocol) -> None:
        self.p = protocol

    def call(self, fn: Callable[[Web3], object]) -> object:
        return fn(self.p.w3)

    def contract(self, w3: Web3, name: str) -> Contract:
        return self.p._at(name)


class _Memory(dict[str, str]):
    def get(self, key: str) -> str | None:  # type: ignore[override]
        return super().get(key)

    def put(self, key: str, value: str) -> None:
        self[key] = value

    def delete(self, key: str) -> None:
        self.pop(key, None)


def demo_keeper(protocol: Protocol, asset_id: int, account: LocalAccount) -> Settler:
    """Settles the asset's next epoch each time it runs (one per transaction, as the story tells them)."""
    return Settler(
        _Chain(protocol),
        lambda _w3: [asset_id],
        AccountSender(account, protocol.deployment.chain_id),
        _Memory(),
        KeeperMetrics(),
        SettlerConfig(batch=1, nav=False),
    )


def sent_by(keeper: Settler, kind: str, asset_id: int) -> HexStr:
    """The transaction the keeper has in flight for `kind` on the asset (it just sent it)."""
    stored = keeper.state.get(f"keeper:{kind}:{asset_id}")
    if stored is None:
        raise RuntimeError(f"the keeper sent no {kind} transaction for asset {asset_id}: nothing was ready")
    return HexStr(json.loads(stored)["hash"])
