"""One keeper pass over its assets: settle what can be settled, record a NAV round when there is a newer one.

Per asset and kind (`finalize`, `nav`), at most one transaction is in flight; it is recorded (hash, nonce,
raw bytes) in the keeper's state before broadcast. A pass first follows it: mined -> forgotten (counted by
outcome); still pending -> wait; gone and its nonce unused (a reorg, a dropped transaction) -> broadcast
again; gone and its nonce used by something else -> forgotten, and the chain is asked afresh.

What to send is asked of the chain itself with a call from the keeper's address: `finalizeEpochs(asset, n)`
answers how many epochs would settle now, `update()` whether a round would be recorded. Nothing is sent when
the answer is zero or false, so a keeper behind another sends nothing. Keepers for the same assets stagger:
each waits its own `stagger` after it first sees work (the site agent waits none), so the first one's
transaction is usually mined before the next one asks; at worst two send in the same block and the second
settles nothing, one wasted attempt.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.contract.contract import Contract, ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound, Web3Exception

from wellhead.agent.rpc import TRANSPORT_ERRORS
from wellhead.chain.artifacts import abi
from wellhead.chain.client import revert_from
from wellhead.core.errors import WellheadError
from wellhead.keeper.metrics import KeeperMetrics

log = logging.getLogger("wellhead.keeper")
ZERO = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class SentTx:
    hash: str
    nonce: int
    raw: str
    sent_at: float


class Sender(Protocol):
    """Signs with the keeper's key and the pending nonce; the settler records, then broadcasts."""

    @property
    def address(self) -> str: ...

    def sign(self, w3: Web3, fn: ContractFunction) -> SentTx: ...


class State(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...


class Chain(Protocol):
    def call(self, fn: Callable[[Web3], object]) -> object: ...

    def contract(self, w3: Web3, name: str) -> Contract: ...


@dataclass
class SettlerConfig:
    batch: int = 24  # epochs per finalize transaction at most
    gas_budget: int = 6_000_000  # per transaction: a batch that needs more is halved
    stagger: float = 0.0  # seconds to wait after first seeing work (0: the site's own agent)
    nav: bool = True
    every: float = 0.0  # seconds between passes at least (the agent's loop runs every second; settling need not)


class Settler:
    name = "settling"

    def __init__(
        self,
        chain: Chain,
        assets: Callable[[Web3], Sequence[int]],
        sender: Sender,
        state: State,
        metrics: KeeperMetrics,
        config: SettlerConfig | None = None,
    ) -> None:
        self.chain = chain
        self.assets = assets
        self.sender = sender
        self.state = state
        self.metrics = metrics
        self.config = config or SettlerConfig()
        self._first_seen: dict[tuple[str, int], float] = {}
        self._last_pass = float("-inf")

    def run(self, now: float) -> None:
        if now - self._last_pass < self.config.every:
            return
        self.chain.call(lambda w3: self._pass(w3, now))
        self._last_pass = now

    def _pass(self, w3: Web3, now: float) -> None:
        market = self.chain.contract(w3, "LeaseMarket")
        factory = self.chain.contract(w3, "NavOracleFactory") if self.config.nav else None
        for asset in self.assets(w3):
            try:
                self._finalize(w3, market, asset, now)
                if factory is not None:
                    self._nav(w3, factory, asset, now)
            except (Web3Exception, ValueError, WellheadError) as exc:  # one asset's trouble stops no other
                if isinstance(exc, TRANSPORT_ERRORS):
                    raise
                self.metrics.errors.labels(asset=str(asset)).inc()
                log.warning("keeper: asset skipped this pass", extra={"asset": asset, "error": type(exc).__name__})

    # ------------------------------------------------------------------ the two kinds of work
    def _finalize(self, w3: Web3, market: Contract, asset: int, now: float) -> None:
        ready = int(market.functions.finalizeEpochs(asset, self.config.batch).call({"from": self.sender.address}))
        self.metrics.finalizable.labels(asset=str(asset)).set(ready)
        next_epoch = int(market.functions.ledgerOf(asset).call().nextEpochToFinalize)
        self.metrics.next_epoch.labels(asset=str(asset)).set(next_epoch)
        if ready == 0:
            self._first_seen.pop(("finalize", asset), None)  # another keeper did it: stagger again next time
        if not self._settled_in_flight(w3, "finalize", asset) or ready == 0 or not self._due("finalize", asset, now):
            return
        batch = min(ready, self.config.batch)
        fn = market.functions.finalizeEpochs(asset, batch)
        while batch > 1 and fn.estimate_gas({"from": self.sender.address}) > self.config.gas_budget:
            batch //= 2
            fn = market.functions.finalizeEpochs(asset, batch)
        self._send(w3, "finalize", asset, fn)

    def _nav(self, w3: Web3, factory: Contract, asset: int, now: float) -> None:
        address = factory.functions.oracleOf(asset).call()
        if address == ZERO:
            return
        oracle = w3.eth.contract(address=address, abi=abi("NavOracle"))
        if not self._settled_in_flight(w3, "nav", asset):
            return
        try:
            would_record = bool(oracle.functions.update().call({"from": self.sender.address}))
        except (ContractCustomError, ContractLogicError):
            would_record = False
        if not would_record:
            self._first_seen.pop(("nav", asset), None)
        elif self._due("nav", asset, now):
            self._send(w3, "nav", asset, oracle.functions.update())

    # ------------------------------------------------------------------ one transaction in flight per (kind, asset)
    def _due(self, kind: str, asset: int, now: float) -> bool:
        first = self._first_seen.setdefault((kind, asset), now)
        return now - first >= self.config.stagger

    def _send(self, w3: Web3, kind: str, asset: int, fn: ContractFunction) -> None:
        sent = self.sender.sign(w3, fn)
        self.state.put(f"keeper:{kind}:{asset}", json.dumps(asdict(sent)))  # recorded before it leaves
        w3.eth.send_raw_transaction(HexStr(sent.raw))
        self.metrics.sent.labels(kind=kind).inc()
        log.info("keeper transaction sent", extra={"kind": kind, "asset": asset, "tx": sent.hash})

    def _settled_in_flight(self, w3: Web3, kind: str, asset: int) -> bool:
        """True when nothing of this kind is in flight for the asset (anymore)."""
        key = f"keeper:{kind}:{asset}"
        stored = self.state.get(key)
        if stored is None:
            return True
        tx = SentTx(**json.loads(stored))
        try:
            receipt = w3.eth.get_transaction_receipt(HexStr(tx.hash))
        except TransactionNotFound:
            receipt = None
        if receipt is not None:
            outcome = "mined" if receipt["status"] == 1 else "reverted"
            self.metrics.outcomes.labels(kind=kind, outcome=outcome).inc()
            self.state.delete(key)
            self._first_seen.pop((kind, asset), None)
            return True
        try:
            w3.eth.get_transaction(HexStr(tx.hash))
            return False  # still pending
        except TransactionNotFound:
            pass
        if w3.eth.get_transaction_count(Web3.to_checksum_address(self.sender.address), "pending") <= tx.nonce:
            try:
                w3.eth.send_raw_transaction(HexStr(tx.raw))
                self.metrics.rebroadcasts.inc()
                log.warning("keeper transaction dropped (reorg?): broadcast again", extra={"tx": tx.hash})
                return False
            except (ValueError, Web3Exception) as exc:  # refused (underpriced, unfunded): forget it, ask afresh
                log.warning("rebroadcast refused: asking the chain afresh", extra={"error": type(exc).__name__})
        self.metrics.outcomes.labels(kind=kind, outcome="replaced").inc()
        self.state.delete(key)
        return True


def sign_transaction(w3: Web3, account: LocalAccount, fn: ContractFunction, chain_id: int) -> SentTx:
    """Builds with the pending nonce and signs; nothing is broadcast. A call that would revert raises the
    named contract error."""
    address = account.address
    try:
        tx = fn.build_transaction(
            {"from": address, "nonce": w3.eth.get_transaction_count(address, "pending"), "chainId": chain_id}
        )
    except (ContractCustomError, ContractLogicError) as exc:
        raise revert_from(exc) from None
    signed = account.sign_transaction(dict(tx))  # type: ignore[arg-type]
    return SentTx(
        "0x" + bytes(signed.hash).hex(), int(tx["nonce"]), "0x" + bytes(signed.raw_transaction).hex(), time.time()
    )


@dataclass
class AccountSender:
    account: LocalAccount
    chain_id: int

    @property
    def address(self) -> str:
        return str(self.account.address)

    def sign(self, w3: Web3, fn: ContractFunction) -> SentTx:
        return sign_transaction(w3, self.account, fn, self.chain_id)
