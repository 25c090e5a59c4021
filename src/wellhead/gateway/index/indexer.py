"""Follows the protocol's events into the gateway's database: from the deployment block, up to a
confirmation depth below the head, in batches; rolls back what a reorg orphaned (from the undo journal for the
newest blocks, `journal.py`); resumes where it stopped.

Each batch reads the core contracts' logs, learns the asset contracts they announce (each asset's shares,
each NAV feed), reads those contracts' logs for the same blocks, and applies everything in chain order in
one database transaction, together with the block hashes a later reorg check compares against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3
from web3.types import BlockData, RPCEndpoint

from wellhead.chain.artifacts import abi
from wellhead.chain.deployment import Deployment
from wellhead.chain.observations import aggregate, to_json
from wellhead.chain.reports import report_from_transaction
from wellhead.core.errors import IndexMovedError, ReportDecodeError, RpcUnavailableError
from wellhead.gateway.db import PROJECTIONS, ChainEvent, IndexedBlock, IndexerState
from wellhead.gateway.index.decoding import LogEvent, checksum, event_decoders
from wellhead.gateway.index.journal import forget, mark, reaches, undo
from wellhead.gateway.index.projections import apply_events
from wellhead.gateway.index.versions import ROLLBACKS, publish

CORE = (
    "CapacityRegistry",
    "LeaseMarket",
    "MetricsOracle",
    "NavOracleFactory",
    "CreditMarket",
    "BtcCreditMarket",
    "GridLedger",
)
NEXT_BLOCK = "next_block"
INDEXED_TIME = "indexed_timestamp"  # the timestamp of the newest indexed block: the API's "now"


@dataclass
class SyncResult:
    events: int = 0
    blocks: int = 0
    rolled_back_to: int | None = None
    restored_rows: int | None = None  # after a rollback: rows the journal restored (None: all were replayed)


class Indexer:
    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        sessions: sessionmaker[Session],
        confirmations: int = 2,
        batch_blocks: int = 2_000,
        journal_depth: int = 256,
    ) -> None:
        self.w3 = w3
        self.sessions = sessions
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self.journal_depth = journal_depth  # the newest blocks a reorg undoes from the journal (deeper: replays)
        self.start_block = deployment.block
        self.kinds: dict[str, str] = {}  # checksum address -> contract type
        for name in CORE:
            if name in deployment.contracts:
                self.kinds[Web3.to_checksum_address(deployment.address(name))] = name
        self.decoders = {name: event_decoders(name) for name in (*CORE, "CapacityShares", "NavOracle")}
        self.oracle = w3.eth.contract(
            address=Web3.to_checksum_address(deployment.address("MetricsOracle")), abi=abi("MetricsOracle")
        )
        self.chain_id = deployment.chain_id
        self.on_version: Callable[[tuple[int, int]], None] | None = None  # told each new version after commit
        self.relearn()

    # ------------------------------------------------------------ public
    def sync(self, max_batches: int | None = None) -> SyncResult:
        """Indexes every confirmed block not yet indexed (or `max_batches` batches of them)."""
        result = SyncResult()
        result.rolled_back_to, result.restored_rows = self._check_reorg()
        safe = self.w3.eth.block_number - self.confirmations
        batches = 0
        while max_batches is None or batches < max_batches:
            start = self._next_block()
            if start > safe:
                break
            end = min(start + self.batch_blocks - 1, safe)
            result.events += self._index_range(start, end, safe)
            result.blocks += end - start + 1
            batches += 1
        return result

    # ------------------------------------------------------------ reading the chain
    def _index_range(self, start: int, end: int, head: int | None = None) -> int:
        """Indexes blocks start..end in one transaction; those within the journal depth of `head` (the newest
        confirmed block; `end` if not given) are journaled."""
        keep_from = (end if head is None else head) - self.journal_depth + 1
        journal_from = max(start, keep_from) if max(start, keep_from) <= end else None
        core = [a for a, k in self.kinds.items() if k in CORE]
        logs = self._logs(core, start, end)
        decoded = [(log, self._decode(log, 0)) for log in logs]
        self._learn_dynamic(e for _, e in decoded if e is not None)
        dynamic = [a for a in self.kinds if a not in core]
        if dynamic:
            # the asset contracts known before and those this batch announced (they emit from creation on)
            decoded += [(log, self._decode(log, 0)) for log in self._logs(dynamic, start, end)]
        events = sorted((e for _, e in decoded if e is not None), key=lambda e: (e.block_number, e.log_index))
        self._attach_observations([e for e in events if e.contract == "MetricsOracle" and e.name == "ReportAccepted"])
        headers = self._headers({e.block_number for e in events} | {end})
        with self.sessions.begin() as s:
            # first: a writer that lost the race stops here (IndexMovedError), before its inserts meet the rows
            # the winner wrote (a duplicate key would not say why)
            advance(s, start, end + 1, self.start_block)
            hashes: dict[int, str] = {}
            for event in events:
                event.timestamp = headers[event.block_number][0]
                hashes[event.block_number] = event.block_hash
            hashes[end] = headers[end][1]
            # plain multi-row inserts (executemany, no RETURNING): the ORM's unit of work, which reads back each
            # event's id, cost a third of a catch-up; nothing in the batch needs the ids
            if events:
                s.execute(insert(ChainEvent), [e.row() for e in events])
            s.execute(insert(IndexedBlock), [{"number": n, "hash": h} for n, h in hashes.items()])
            apply_events(s, events, journal_from)
            mark(s, start, end, journal_from, keep_from)
            s.merge(IndexerState(key=INDEXED_TIME, value=headers[end][0]))
            version = (end + 1, self._rollbacks(s))
            publish(s, version)  # to every API replica, on commit
        if self.on_version is not None:
            self.on_version(version)
        return len(events)

    def _attach_observations(self, accepted: list[LogEvent], chunk: int = 100) -> None:
        """Adds to each ReportAccepted event the observations behind it (from its transaction's input, checked
        against the digest) and every field's median: stored with the event, so a rollback replays them
        without the node. A report submitted through another contract keeps the event's values only."""
        hashes = sorted({e.tx_hash for e in accepted})
        txs: dict[str, Any] = {}
        for i in range(0, len(hashes), chunk):
            part = hashes[i : i + chunk]
            with self.w3.batch_requests() as batch:
                for h in part:
                    batch.add(self.w3.eth.get_transaction(h))  # type: ignore[arg-type]
                txs |= dict(zip(part, batch.execute(), strict=True))
        for e in accepted:
            try:
                digest = bytes.fromhex(str(e.args["digest"])[2:])
                report = report_from_transaction(self.oracle, txs[e.tx_hash], digest, self.chain_id)
            except ReportDecodeError:
                e.args = {**e.args, "observations": None, "aggregate": None}
                continue
            median = aggregate(report.observations, report.grid_event_id).model_dump(by_alias=True)
            e.args = {
                **e.args,
                "observations": [to_json(o) for o in report.observations],
                "aggregate": {k: ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in median.items()},
            }

    def _headers(self, numbers: set[int], chunk: int = 200) -> dict[int, tuple[int, str]]:
        """Timestamp and hash of each block, fetched as JSON-RPC batches (a round trip per `chunk` blocks)."""
        ordered = sorted(numbers)
        out: dict[int, tuple[int, str]] = {}
        for i in range(0, len(ordered), chunk):
            part = ordered[i : i + chunk]
            with self.w3.batch_requests() as batch:
                for n in part:
                    batch.add(self.w3.eth.get_block(n))
                blocks = [cast(BlockData, b) for b in batch.execute()]
            out |= {n: (int(b["timestamp"]), "0x" + bytes(b["hash"]).hex()) for n, b in zip(part, blocks, strict=True)}
        return out

    def _logs(self, addresses: list[str], start: int, end: int) -> list[dict[str, Any]]:
        """Raw eth_getLogs (JSON as the node sends it): web3's result formatters cost more than the decoding."""
        if not addresses:
            return []
        query = {"address": addresses, "fromBlock": hex(start), "toBlock": hex(end)}
        response = self.w3.provider.make_request(RPCEndpoint("eth_getLogs"), [query])
        if "error" in response or not isinstance(response.get("result"), list):
            raise RpcUnavailableError(f"eth_getLogs {start}..{end} failed: {response.get('error')}")
        result: list[dict[str, Any]] = response["result"]
        return result

    def _decode(self, log: dict[str, Any], timestamp: int) -> LogEvent | None:
        address = checksum(log["address"])
        kind = self.kinds.get(address)
        topics: list[str] = log["topics"]
        if kind is None or not topics or log.get("removed"):
            return None
        decoder = self.decoders[kind].get(bytes.fromhex(topics[0][2:]))
        if decoder is None:
            return None
        return LogEvent(
            block_number=int(log["blockNumber"], 16),
            block_hash=log["blockHash"],
            timestamp=timestamp,
            tx_hash=log["transactionHash"],
            log_index=int(log["logIndex"], 16),
            address=address,
            contract=kind,
            name=decoder.name,
            args=decoder.decode([bytes.fromhex(t[2:]) for t in topics[1:]], bytes.fromhex(log["data"][2:])),
        )

    def relearn(self) -> None:
        """Learns the asset contracts the indexed events announced (at start-up and after a rollback)."""
        with self.sessions() as s:
            self._learn_dynamic(s.scalars(select(ChainEvent).where(ChainEvent.name.in_(DISCOVERY))))

    def _learn_dynamic(self, events: Iterable[LogEvent | ChainEvent]) -> None:
        for e in events:
            if e.name == "AssetRegistered":
                self.kinds[Web3.to_checksum_address(e.args["shares"])] = "CapacityShares"
            elif e.name == "NavOracleCreated":
                self.kinds[Web3.to_checksum_address(e.args["feed"])] = "NavOracle"

    # ------------------------------------------------------------ reorgs
    def _next_block(self) -> int:
        with self.sessions() as s:
            state = s.get(IndexerState, NEXT_BLOCK)
            return self.start_block if state is None else state.value

    def _rollbacks(self, s: Session) -> int:
        state = s.get(IndexerState, ROLLBACKS)
        return 0 if state is None else int(state.value)

    def _check_reorg(self) -> tuple[int | None, int | None]:
        """If the newest indexed block's hash is no longer the chain's, finds the newest indexed block that
        still is (the common ancestor) and rolls back to it: the common ancestor and the rows restored."""
        with self.sessions() as s:
            newest = s.scalars(select(IndexedBlock).order_by(IndexedBlock.number.desc()).limit(1)).first()
            if newest is None or self._chain_hash(newest.number) == newest.hash:
                return None, None
            ancestor = self.start_block - 1
            for block in s.scalars(select(IndexedBlock).order_by(IndexedBlock.number.desc())):
                if self._chain_hash(block.number) == block.hash:
                    ancestor = block.number
                    break
        return ancestor, self._rollback(ancestor)

    def _chain_hash(self, number: int) -> str | None:
        block = self.w3.eth.get_block(number) if number <= self.w3.eth.block_number else None
        return None if block is None else "0x" + bytes(block["hash"]).hex()

    def _rollback(self, ancestor: int) -> int | None:
        """Deletes what the blocks after `ancestor` indexed and undoes what they changed: from the journal when
        it reaches that far back (the rows restored), else by rebuilding every read model (None)."""
        expected = self._next_block()
        with self.sessions.begin() as s:
            advance(s, expected, ancestor + 1, self.start_block)  # first: a writer that lost the race stops here
            s.execute(delete(ChainEvent).where(ChainEvent.block_number > ancestor))
            s.execute(delete(IndexedBlock).where(IndexedBlock.number > ancestor))
            version = (ancestor + 1, self._rollbacks(s) + 1)
            s.merge(IndexerState(key=ROLLBACKS, value=version[1]))
            publish(s, version)
            restored = undo(s, ancestor) if reaches(s, ancestor) else None
            if restored is None:
                for model in PROJECTIONS:
                    s.execute(delete(model))
                events = s.scalars(select(ChainEvent).order_by(ChainEvent.block_number, ChainEvent.log_index))
                apply_events(s, [LogEvent.of(e) for e in events])
                forget(s, ancestor)
        if self.on_version is not None:
            self.on_version(version)
        self.kinds = {a: k for a, k in self.kinds.items() if k in CORE}
        self.relearn()
        return restored


DISCOVERY = ("AssetRegistered", "NavOracleCreated")


def advance(s: Session, expected: int, new: int, start_block: int) -> None:
    """Moves the index position from `expected` to `new` (compare-and-set), in the caller's transaction; raises
    IndexMovedError, so that the whole transaction rolls back, when another writer moved it first."""
    moved = s.execute(
        update(IndexerState).where(IndexerState.key == NEXT_BLOCK, IndexerState.value == expected).values(value=new)
    )
    if moved.rowcount == 1:  # type: ignore[attr-defined]
        return
    current = s.get(IndexerState, NEXT_BLOCK)
    if current is None and expected == start_block:
        s.add(IndexerState(key=NEXT_BLOCK, value=new))  # the first batch: a concurrent first insert fails unique
        s.flush()
        return
    raise IndexMovedError(
        f"the index position is {None if current is None else current.value}, not {expected}: another indexer wrote"
    )
