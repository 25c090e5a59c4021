"""At most one keeper transaction in flight per job (a kind of work on one asset, or one position), recorded
before broadcast so that a restart follows it instead of sending it again.

Each pass asks `clear(job)` first and acts only on `Flight.CLEAR`:

- mined: forgotten, counted; the pass does nothing more for the job (`JUST_SETTLED`): what it read of the
  chain before the receipt appeared may be stale, and the next pass asks afresh;
- reverted: forgotten, and the job waits out a backoff that doubles with each revert in a row (a call that
  succeeds and a transaction that reverts, pass after pass, costs gas every time); kept in the state, so a
  restart does not pay for the same revert again;
- pending for longer than `replace_after`: replaced by the same call and nonce with both fees raised, never past
  the policy's `max_fee_per_gas` nor the job's own cap (a liquidation's: the fee at which it stops paying);
- gone with its nonce unused (a reorg, a dropped transaction): broadcast again; gone with its nonce used by
  something else: forgotten, and the nonce counter resynced.
"""

from __future__ import annotations

import enum
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from eth_typing import HexStr
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import TransactionNotFound, Web3Exception

from wellhead.agent.rpc import TRANSPORT_ERRORS
from wellhead.keeper.metrics import KeeperMetrics
from wellhead.keeper.transactions import FEE_BUMP, SentTx, ceil_ratio

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
    max_fee_per_gas: int = 500 * 10**9  # wei: no replacement offers more (500 gwei)


@dataclass
class InFlight:
    sender: Sender
    state: State
    metrics: KeeperMetrics
    policy: FlightPolicy = field(default_factory=FlightPolicy)
    wall: Callable[[], float] = time.time  # transactions' ages and backoffs are wall-clock time

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

    def send(self, w3: Web3, job: str, kind: str, fn: ContractFunction, fee_cap: int = 0) -> SentTx:
        sent = replace(self.sender.sign(w3, fn), sent_at=self.wall(), fee_cap=fee_cap)
        self.state.put(f"keeper:{job}", sent.dumps())  # recorded before it leaves
        try:
            w3.eth.send_raw_transaction(HexStr(sent.raw))
        except TRANSPORT_ERRORS:
            raise  # it may have reached the node: the record stays, and the next pass follows it
        except (ValueError, Web3Exception):  # refused (unfunded, under-priced): it never entered a mempool
            self.state.delete(f"keeper:{job}")
            self.sender.resync()
            raise
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
        cap = min(self.policy.max_fee_per_gas, tx.fee_cap) if tx.fee_cap > 0 else self.policy.max_fee_per_gas
        if ceil_ratio(tx.max_fee, FEE_BUMP) > cap or ceil_ratio(tx.priority_fee, FEE_BUMP) > cap:
            self.metrics.replacements_capped.labels(kind=kind).inc()
            log.warning("keeper transaction pending at its fee cap: waiting", extra={"job": job, "cap": cap})
            return
        bumped = replace(self.sender.replace(w3, tx), sent_at=self.wall(), fee_cap=tx.fee_cap)
        if bumped.max_fee > cap:  # today's market is above the cap: the transaction waits at its fees
            self.metrics.replacements_capped.labels(kind=kind).inc()
            log.warning("keeper replacement held at the fee cap", extra={"job": job, "cap": cap})
            return
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
            self.state.delete(f"keeper:backoff:{job}")
            return
        stored = self.state.get(f"keeper:backoff:{job}")
        count = (json.loads(stored)[0] if stored else 0) + 1
        wait = min(self.policy.backoff * 2 ** (count - 1), self.policy.backoff_max)
        self.state.put(f"keeper:backoff:{job}", json.dumps([count, self.wall() + wait]))
        log.warning("keeper transaction reverted: backing off", extra={"job": job, "seconds": wait})

    def _backing_off(self, job: str) -> bool:
        stored = self.state.get(f"keeper:backoff:{job}")
        return stored is not None and self.wall() < float(json.loads(stored)[1])
