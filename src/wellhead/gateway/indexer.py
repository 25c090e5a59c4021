"""Follows the protocol's events into the gateway's database: from the deployment block, up to a
confirmation depth below the head, in batches; rolls back what a reorg orphaned; resumes where it stopped.

Each batch reads the core contracts' logs, learns the asset contracts they announce (each asset's shares,
each NAV feed), reads those contracts' logs for the same blocks, and applies everything in chain order in
one database transaction, together with the block hashes a later reorg check compares against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from hexbytes import HexBytes
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3
from web3._utils.events import get_event_data
from web3.types import EventData, LogReceipt

from wellhead.chain.artifacts import abi
from wellhead.chain.deployment import Deployment
from wellhead.gateway.db import PROJECTIONS, ChainEvent, IndexedBlock, IndexerState
from wellhead.gateway.projections import apply_event

CORE = ("CapacityRegistry", "LeaseMarket", "MetricsOracle", "NavOracleFactory", "CreditMarket")
NEXT_BLOCK = "next_block"


def _event_abis(contract: str) -> dict[bytes, dict[str, Any]]:
    """topic0 -> event ABI, for one contract type (ERC-20 and ERC-721 Transfer share a topic)."""
    out: dict[bytes, dict[str, Any]] = {}
    for item in abi(contract):
        if item["type"] == "event" and not item.get("anonymous"):
            signature = f"{item['name']}({','.join(_type(i) for i in item['inputs'])})"
            out[keccak(text=signature)] = item
    return out


def _type(item: dict[str, Any]) -> str:
    t: str = item["type"]
    if t.startswith("tuple"):
        return f"({','.join(_type(c) for c in item['components'])}){t[5:]}"
    return t


def _plain(value: Any) -> Any:
    """Decoded event values as JSON: bytes as 0x-hex, structs as objects, integers kept exact."""
    if isinstance(value, bytes | bytearray | HexBytes):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class SyncResult:
    events: int = 0
    blocks: int = 0
    rolled_back_to: int | None = None


class Indexer:
    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        sessions: sessionmaker[Session],
        confirmations: int = 2,
        batch_blocks: int = 2_000,
    ) -> None:
        self.w3 = w3
        self.sessions = sessions
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self.start_block = deployment.block
        self.kinds: dict[str, str] = {}  # checksum address -> contract type
        for name in CORE:
            if name in deployment.contracts:
                self.kinds[Web3.to_checksum_address(deployment.address(name))] = name
        self.abis = {name: _event_abis(name) for name in (*CORE, "CapacityShares", "NavOracle")}
        with self.sessions() as s:
            self._learn_dynamic(s.scalars(select(ChainEvent).where(ChainEvent.name.in_(DISCOVERY))))

    # ------------------------------------------------------------ public
    def sync(self, max_batches: int | None = None) -> SyncResult:
        """Indexes every confirmed block not yet indexed (or `max_batches` batches of them)."""
        result = SyncResult()
        result.rolled_back_to = self._check_reorg()
        safe = self.w3.eth.block_number - self.confirmations
        batches = 0
        while max_batches is None or batches < max_batches:
            start = self._next_block()
            if start > safe:
                break
            end = min(start + self.batch_blocks - 1, safe)
            result.events += self._index_range(start, end)
            result.blocks += end - start + 1
            batches += 1
        return result

    # ------------------------------------------------------------ reading the chain
    def _index_range(self, start: int, end: int) -> int:
        core = [a for a, k in self.kinds.items() if k in CORE]
        logs = self._logs(core, start, end)
        self._learn_dynamic_from_logs(logs)
        dynamic = [a for a in self.kinds if a not in core]
        if dynamic:
            # the asset contracts known before and those this batch announced (they emit from creation on)
            logs += self._logs(dynamic, start, end)
        logs.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
        timestamps: dict[int, int] = {}
        with self.sessions.begin() as s:
            for log in logs:
                number = int(log["blockNumber"])
                if number not in timestamps:
                    timestamps[number] = int(self.w3.eth.get_block(number)["timestamp"])
                event = self._decode(log, timestamps[number])
                if event is None:
                    continue
                s.add(event)
                s.merge(IndexedBlock(number=number, hash=event.block_hash))
                apply_event(s, event)
            s.merge(IndexedBlock(number=end, hash="0x" + bytes(self.w3.eth.get_block(end)["hash"]).hex()))
            s.merge(IndexerState(key=NEXT_BLOCK, value=end + 1))
        return len(logs)

    def _logs(self, addresses: list[str], start: int, end: int) -> list[LogReceipt]:
        if not addresses:
            return []
        checksummed = [Web3.to_checksum_address(a) for a in addresses]
        return list(self.w3.eth.get_logs({"address": checksummed, "fromBlock": start, "toBlock": end}))

    def _decode(self, log: LogReceipt, timestamp: int) -> ChainEvent | None:
        address = Web3.to_checksum_address(log["address"])
        kind = self.kinds.get(address)
        if kind is None or not log["topics"]:
            return None
        item = self.abis[kind].get(bytes(log["topics"][0]))
        if item is None:
            return None
        data: EventData = get_event_data(self.w3.codec, item, log)
        return ChainEvent(
            block_number=int(log["blockNumber"]),
            block_hash="0x" + bytes(log["blockHash"]).hex(),
            timestamp=timestamp,
            tx_hash="0x" + bytes(log["transactionHash"]).hex(),
            log_index=int(log["logIndex"]),
            address=address,
            contract=kind,
            name=data["event"],
            args=_plain(dict(data["args"])),
        )

    def _learn_dynamic_from_logs(self, logs: Iterable[LogReceipt]) -> None:
        for log in logs:
            event = self._decode(log, 0)
            if event is not None:
                self._learn_dynamic([event])

    def _learn_dynamic(self, events: Iterable[ChainEvent]) -> None:
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

    def _check_reorg(self) -> int | None:
        """If the newest indexed block's hash is no longer the chain's, finds the newest indexed block that
        still is (the common ancestor), deletes everything after it and rebuilds the read models."""
        with self.sessions() as s:
            newest = s.scalars(select(IndexedBlock).order_by(IndexedBlock.number.desc()).limit(1)).first()
            if newest is None or self._chain_hash(newest.number) == newest.hash:
                return None
            ancestor = self.start_block - 1
            for block in s.scalars(select(IndexedBlock).order_by(IndexedBlock.number.desc())):
                if self._chain_hash(block.number) == block.hash:
                    ancestor = block.number
                    break
        self._rollback(ancestor)
        return ancestor

    def _chain_hash(self, number: int) -> str | None:
        block = self.w3.eth.get_block(number) if number <= self.w3.eth.block_number else None
        return None if block is None else "0x" + bytes(block["hash"]).hex()

    def _rollback(self, ancestor: int) -> None:
        with self.sessions.begin() as s:
            s.execute(delete(ChainEvent).where(ChainEvent.block_number > ancestor))
            s.execute(delete(IndexedBlock).where(IndexedBlock.number > ancestor))
            s.merge(IndexerState(key=NEXT_BLOCK, value=ancestor + 1))
            for model in PROJECTIONS:
                s.execute(delete(model))
            for event in s.scalars(select(ChainEvent).order_by(ChainEvent.block_number, ChainEvent.log_index)):
                apply_event(s, event)
        self.kinds = {a: k for a, k in self.kinds.items() if k in CORE}
        with self.sessions() as s:
            self._learn_dynamic(s.scalars(select(ChainEvent).where(ChainEvent.name.in_(DISCOVERY))))


DISCOVERY = ("AssetRegistered", "NavOracleCreated")
