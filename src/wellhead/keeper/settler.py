"""One keeper pass over its assets: settle what can be settled, record a NAV round when there is a newer one.

Per asset and kind (`finalize`, `nav`), at most one transaction is in flight (`InFlight`, recorded before
broadcast, replaced with higher fees when stuck, backed off after a revert). A pass first follows it and acts
only when nothing is in flight and nothing settled just now, so what it reads of the chain is never older than
the receipt it found.

What to send is asked of the chain itself with a call from the keeper's address: `finalizeEpochs(asset, n)`
answers how many epochs would settle now, `update()` whether a round would be recorded. Nothing is sent when
the answer is zero or false, so a keeper behind another sends nothing. Keepers for the same assets stagger:
each waits its own `stagger` after it first sees work (the site agent waits none), so the first one's
transaction is usually mined before the next one asks; at worst two send in the same block and the second
settles nothing, one wasted attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from web3 import Web3
from web3.contract.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError, Web3Exception

from wellhead.agent.rpc import TRANSPORT_ERRORS
from wellhead.chain.artifacts import abi
from wellhead.core.errors import WellheadError
from wellhead.keeper.flight import Flight, FlightPolicy, InFlight, Sender, State
from wellhead.keeper.metrics import KeeperMetrics

log = logging.getLogger("wellhead.keeper")
ZERO = "0x0000000000000000000000000000000000000000"


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
    flight: FlightPolicy = field(default_factory=FlightPolicy)


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
        self.flight = InFlight(sender, state, metrics, self.config.flight)
        self._first_seen: dict[tuple[str, int], float] = {}
        self._last_pass = float("-inf")
        self.failures = 0  # assets whose step failed in the last pass

    def run(self, now: float) -> None:
        if now - self._last_pass < self.config.every:
            return
        self.chain.call(lambda w3: self._pass(w3, now))
        self._last_pass = now

    def _pass(self, w3: Web3, now: float) -> None:
        market = self.chain.contract(w3, "LeaseMarket")
        factory = self.chain.contract(w3, "NavOracleFactory") if self.config.nav else None
        failures = 0
        for asset in self.assets(w3):
            try:
                self._finalize(w3, market, asset, now)
                if factory is not None:
                    self._nav(w3, factory, asset, now)
            except (Web3Exception, ValueError, WellheadError) as exc:  # one asset's trouble stops no other
                if isinstance(exc, TRANSPORT_ERRORS):
                    raise
                failures += 1
                self.metrics.errors.labels(asset=str(asset)).inc()
                log.warning("keeper: asset skipped this pass", extra={"asset": asset, "error": type(exc).__name__})
        self.failures = failures

    # ------------------------------------------------------------------ the two kinds of work
    def _finalize(self, w3: Web3, market: Contract, asset: int, now: float) -> None:
        flight = self.flight.clear(w3, f"finalize:{asset}", "finalize")  # before any read: none predates it
        ready = int(market.functions.finalizeEpochs(asset, self.config.batch).call({"from": self.sender.address}))
        self.metrics.finalizable.labels(asset=str(asset)).set(ready)
        next_epoch = int(market.functions.ledgerOf(asset).call().nextEpochToFinalize)
        self.metrics.next_epoch.labels(asset=str(asset)).set(next_epoch)
        if ready == 0:
            self._first_seen.pop(("finalize", asset), None)  # another keeper did it: stagger again next time
        if flight is not Flight.CLEAR or ready == 0 or not self._due("finalize", asset, now):
            return
        batch = min(ready, self.config.batch)
        fn = market.functions.finalizeEpochs(asset, batch)
        while batch > 1 and fn.estimate_gas({"from": self.sender.address}) > self.config.gas_budget:
            batch //= 2
            fn = market.functions.finalizeEpochs(asset, batch)
        self.flight.send(w3, f"finalize:{asset}", "finalize", fn)
        self._first_seen.pop(("finalize", asset), None)

    def _nav(self, w3: Web3, factory: Contract, asset: int, now: float) -> None:
        address = factory.functions.oracleOf(asset).call()
        if address == ZERO:
            return
        oracle = w3.eth.contract(address=address, abi=abi("NavOracle"))
        if self.flight.clear(w3, f"nav:{asset}", "nav") is not Flight.CLEAR:
            return
        try:
            would_record = bool(oracle.functions.update().call({"from": self.sender.address}))
        except (ContractCustomError, ContractLogicError):
            would_record = False
        if not would_record:
            self._first_seen.pop(("nav", asset), None)
        elif self._due("nav", asset, now):
            self.flight.send(w3, f"nav:{asset}", "nav", oracle.functions.update())
            self._first_seen.pop(("nav", asset), None)

    def _due(self, kind: str, asset: int, now: float) -> bool:
        first = self._first_seen.setdefault((kind, asset), now)
        return now - first >= self.config.stagger
