"""At most one keeper transaction in flight per job (a kind of work on one asset, or one position), recorded
before broadcast so that a restart follows it instead of sending it again.

Each pass asks `clear(job)` first and acts only on `Flight.CLEAR`:

- mined: forgotten, counted; the pass does nothing more for the job (`JUST_SETTLED`): what it read of the
  chain before the receipt appeared may be stale, and the next pass asks afresh;
- reverted: forgotten, and the job waits out a backoff that doubles with each revert in a row (a call that
  succeeds and a transaction that reverts, pass after pass, costs gas every time);
- pending for longer than `replace_after`: replaced by the same call and nonce with both fees raised;
- gone with its nonce unused (a reorg, a dropped transaction): broadcast again; gone with its nonce used by
  something else: forgotten, and the nonce counter resynced.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from eth_typing import HexStr
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import TransactionNotFound, Web3Exception

from wellhead.keeper.metrics import KeeperMetrics
from wellhead.keeper.transactions import SentTx

log = logging.getLogger("wellhead.keeper")


class Sender(Protocol):
    """Signs with the service's key and its nonce counter; whoever holds the record broadcasts."""

    @property
    def address(self) -> str: ...

    def sign(self, w3: Web3, fn: ContractFunction) -> SentTx: ...

    def replace(self, w3: Web3, sent: SentTx) -> SentTx: ...

    def resync(self) -> None: ...


class State(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...


class Flight(enum.Enum):
    CLEAR = "clear"  # nothing in flight, no backoff: the job may send
    JUST_SETTLED = "just_settled"  # the job's transaction was mined or reverted just now
    PENDING = "pending"  # in flight, or backing off after a revert


@dataclass
class FlightPolicy:
    replace_after: float = 120.0  # seconds pending before the fees are raised
    backoff: float = 30.0  # seconds after the first revert in a row; doubles per revert, up to `backoff_max`
    backoff_max: float = 3600.0


@dataclass
class InFlight:
    sender: Sender
    state: State
    metrics: KeeperMetrics
    policy: FlightPolicy = field(default_factory=FlightPolicy)
    wall: Callable[[], float] = time.time  # transactions' ages and backoffs are wall-clock time
    _reverts: dict[str, tuple[int, float]] = field(default_factory=dict)  # job -> (reverts in a row, until)

    def clear(self, w3: Web3, job: str, kind: str) -> Flight:
        stored = self.state.get(f"keeper:{job}")
        if stored is None:
            return Flight.PENDING if self._backing_off(job) else Flight.CLEAR
        tx = SentTx.loads(stored)
        for tx_hash in tx.hashes:
            try:
                receipt = w3.eth.get_transaction_receipt(HexStr(tx_hash))
            except TransactionNotFound:
                continue
            self._settled(job, kind, receipt["status"] == 1)
            return Flight.JUST_SETTLED
        if self._pending(w3, tx):
            if self.wall() - tx.sent_at >= self.policy.replace_after:
                self._replace(w3, job, kind, tx)
            return Flight.PENDING
        if w3.eth.get_transaction_count(Web3.to_checksum_address(self.sender.address), "pending") <= tx.nonce:
            try:
                w3.eth.send_raw_transaction(HexStr(tx.raw))
                self.metrics.rebroadcasts.inc()
                log.warning("keeper transaction dropped (reorg?): broadcast again", extra={"tx": tx.hash})
                return Flight.PENDING
            except (ValueError, Web3Exception) as exc:  # refused (underpriced, unfunded): forget it, ask afresh
                log.warning("rebroadcast refused: asking the chain afresh", extra={"error": type(exc).__name__})
        self.metrics.outcomes.labels(kind=kind, outcome="replaced").inc()
        self.state.delete(f"keeper:{job}")
        self.sender.resync()
        return Flight.JUST_SETTLED

    def send(self, w3: Web3, job: str, kind: str, fn: ContractFunction) -> SentTx:
        sent = replace(self.sender.sign(w3, fn), sent_at=self.wall())
        self.state.put(f"keeper:{job}", sent.dumps())  # recorded before it leaves
        w3.eth.send_raw_transaction(HexStr(sent.raw))
        self.metrics.sent.labels(kind=kind).inc()
        log.info("keeper transaction sent", extra={"job": job, "tx": sent.hash, "nonce": sent.nonce})
        return sent

    # ------------------------------------------------------------------ the parts
    def _pending(self, w3: Web3, tx: SentTx) -> bool:
        for tx_hash in tx.hashes:
            try:
                w3.eth.get_transaction(HexStr(tx_hash))
                return True
            except TransactionNotFound:
                continue
        return False

    def _replace(self, w3: Web3, job: str, kind: str, tx: SentTx) -> None:
        bumped = replace(self.sender.replace(w3, tx), sent_at=self.wall())
        self.state.put(f"keeper:{job}", bumped.dumps())  # every version is followed from now on
        try:
            w3.eth.send_raw_transaction(HexStr(bumped.raw))
        except (ValueError, Web3Exception) as exc:  # still underpriced for this node: the next pass bumps again
            log.warning("fee-bumped replacement refused", extra={"job": job, "error": type(exc).__name__})
            return
        self.metrics.replacements.labels(kind=kind).inc()
        log.warning(
            "keeper transaction pending too long: replaced with higher fees",
            extra={"job": job, "tx": bumped.hash, "max_fee": bumped.max_fee},
        )

    def _settled(self, job: str, kind: str, mined: bool) -> None:
        self.metrics.outcomes.labels(kind=kind, outcome="mined" if mined else "reverted").inc()
        self.state.delete(f"keeper:{job}")
        if mined:
            self._reverts.pop(job, None)
            return
        count = self._reverts.get(job, (0, 0.0))[0] + 1
        wait = min(self.policy.backoff * 2 ** (count - 1), self.policy.backoff_max)
        self._reverts[job] = (count, self.wall() + wait)
        log.warning("keeper transaction reverted: backing off", extra={"job": job, "seconds": wait})

    def _backing_off(self, job: str) -> bool:
        entry = self._reverts.get(job)
        return entry is not None and self.wall() < entry[1]
