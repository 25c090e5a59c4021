"""Event logs decoded into JSON-ready arguments: structs as objects by component name, addresses checksummed,
bytes as 0x-hex.

Most of the protocol's events carry only static words (integers, addresses, booleans, fixed bytes). Those are
read straight from their 32-byte words, with every check eth_abi makes (an integer in its type's range,
an address's and a `bytesN`'s padding zero, a boolean 0 or 1, the data exactly one word per value); a log that
fails any check, and every event with a dynamic or tuple type, goes to eth_abi, which decodes it or raises its
own error. So the fast path returns only what eth_abi would, and was a quarter of a catch-up's time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak
from web3 import Web3

from wellhead.chain.artifacts import abi


@dataclass(slots=True)
class LogEvent:
    """One decoded log, as the indexer applies it to the read models and stores it (a `chain_events` row)."""

    block_number: int
    block_hash: str
    timestamp: int
    tx_hash: str
    log_index: int
    address: str
    contract: str
    name: str
    args: dict[str, Any]

    def row(self) -> dict[str, Any]:
        """The `chain_events` row's columns (not `dataclasses.asdict`: that deep-copies the arguments)."""
        return {f: getattr(self, f) for f in LOG_FIELDS}

    @classmethod
    def of(cls, row: Any) -> LogEvent:
        """From a stored `chain_events` row (a replay)."""
        return cls(**{f: getattr(row, f) for f in LOG_FIELDS})


LOG_FIELDS = tuple(f.name for f in fields(LogEvent))
WordReader = Callable[[bytes], Any]  # one 32-byte word to its JSON value; None where eth_abi must decide
_STATIC = re.compile(r"(u?int)([1-9][0-9]*)?|address|bool|bytes([1-9][0-9]*)")  # canonical sizes only, as eth_abi


def event_decoders(contract: str) -> dict[bytes, EventDecoder]:
    """topic0 -> decoder, for one contract type (ERC-20 and ERC-721 Transfer share a topic)."""
    out: dict[bytes, EventDecoder] = {}
    for item in abi(contract):
        if item["type"] == "event" and not item.get("anonymous"):
            signature = f"{item['name']}({','.join(abi_type(i) for i in item['inputs'])})"
            out[keccak(text=signature)] = EventDecoder.of(item)
    return out


@dataclass(frozen=True)
class EventDecoder:
    """Decodes one event's logs: types, names and word readers worked out once, not per log."""

    name: str
    inputs: tuple[dict[str, Any], ...]
    indexed_types: tuple[str, ...]
    data_types: tuple[str, ...]
    readers: tuple[WordReader, ...] | None  # per input in ABI order, when every input is a static word

    @classmethod
    def of(cls, item: dict[str, Any]) -> EventDecoder:
        inputs = tuple(item["inputs"])
        readers = [word_reader(abi_type(i)) for i in inputs]
        return cls(
            name=item["name"],
            inputs=inputs,
            indexed_types=tuple(abi_type(i) for i in inputs if i["indexed"]),
            data_types=tuple(abi_type(i) for i in inputs if not i["indexed"]),
            readers=None if None in readers else tuple(r for r in readers if r is not None),
        )

    def decode(self, topics: list[bytes], data: bytes) -> dict[str, Any]:
        fast = self._from_words(topics, data) if self.readers is not None else None
        if fast is not None:
            return fast
        indexed = iter(abi_decode([t], topic)[0] for t, topic in zip(self.indexed_types, topics, strict=True))
        plain = iter(abi_decode(list(self.data_types), data))
        return {i["name"]: named(next(indexed) if i["indexed"] else next(plain), i) for i in self.inputs}

    def _from_words(self, topics: list[bytes], data: bytes) -> dict[str, Any] | None:
        """The arguments read word by word, or None (eth_abi decides) if any word or length is not as expected."""
        assert self.readers is not None
        if len(topics) != len(self.indexed_types) or len(data) != 32 * len(self.data_types):
            return None
        out: dict[str, Any] = {}
        t = d = 0
        for item, read in zip(self.inputs, self.readers, strict=True):
            if item["indexed"]:
                word = topics[t]
                t += 1
                if len(word) != 32:
                    return None
            else:
                word = data[d : d + 32]
                d += 32
            value = read(word)
            if value is None:
                return None
            out[item["name"]] = value
        return out


def word_reader(t: str) -> WordReader | None:
    """The reader of one static ABI type's word, or None for a type eth_abi must decode."""
    match = _STATIC.fullmatch(t)
    if match is None:
        return None
    if t == "address":
        return _address
    if t == "bool":
        return _bool
    if match.group(3) is not None:
        size = int(match.group(3))
        return None if not 1 <= size <= 32 else _fixed_bytes(size)
    bits = int(match.group(2) or 256)
    if bits % 8 or not 8 <= bits <= 256:
        return None
    return _unsigned(bits) if match.group(1) == "uint" else _signed(bits)


def _address(word: bytes) -> str | None:
    return checksum("0x" + word[12:].hex()) if not any(word[:12]) else None


def _bool(word: bytes) -> bool | None:
    value = int.from_bytes(word, "big")
    return bool(value) if value <= 1 else None


def _fixed_bytes(size: int) -> WordReader:
    def read(word: bytes) -> str | None:
        return "0x" + word[:size].hex() if not any(word[size:]) else None

    return read


def _unsigned(bits: int) -> WordReader:
    def read(word: bytes) -> int | None:
        value = int.from_bytes(word, "big")
        return value if value >> bits == 0 else None

    return read


def _signed(bits: int) -> WordReader:
    bound = 1 << (bits - 1)

    def read(word: bytes) -> int | None:
        value = int.from_bytes(word, "big", signed=True)
        return value if -bound <= value < bound else None

    return read


def named(value: Any, item: dict[str, Any]) -> Any:
    """ABI values as JSON: structs as objects by component name, addresses checksummed, bytes as 0x-hex."""
    t: str = item["type"]
    if t.endswith("]"):
        inner = {**item, "type": t[: t.rindex("[")]}
        return [named(v, inner) for v in value]
    if t == "tuple":
        return {c["name"]: named(v, c) for c, v in zip(item["components"], value, strict=True)}
    if t == "address":
        return checksum(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


@lru_cache(maxsize=65_536)
def checksum(address: str) -> str:
    """EIP-55 spelling, remembered: the same few addresses recur in every batch."""
    return str(Web3.to_checksum_address(address))


def abi_type(item: dict[str, Any]) -> str:
    t: str = item["type"]
    if t.startswith("tuple"):
        return f"({','.join(abi_type(c) for c in item['components'])}){t[5:]}"
    return t
