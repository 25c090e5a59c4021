"""The indexer's word-by-word event decoding against eth_abi: the same value for every word eth_abi accepts,
and a fall-back to eth_abi (which raises) for every word it rejects, at each type's range edges."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from hypothesis import given, settings
from hypothesis import strategies as st

from wellhead.gateway.index.decoding import EventDecoder, event_decoders, named, word_reader

STATIC = ["uint8", "uint16", "uint64", "uint256", "int8", "int64", "int256", "address", "bool", "bytes1", "bytes32"]


def edges(t: str) -> list[bytes]:
    """Words at the edges of a type's range: the last valid value and the first invalid one, each side."""
    if t.startswith(("uint", "int")):
        bits = int(t.lstrip("uint") or 256)
        signed = t.startswith("int")
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        values = [lo, hi, lo - 1, hi + 1, 0, -1]
        return [(v % (1 << 256)).to_bytes(32, "big") for v in values if -(1 << 255) <= v < 1 << 256]
    if t == "bool":
        return [int(v).to_bytes(32, "big") for v in (0, 1, 2, 1 << 255)]
    if t == "address":
        return [bytes(12) + b"\xff" * 20, b"\x01" + bytes(11) + b"\xff" * 20, bytes(11) + b"\x01" + bytes(20)]
    size = int(t.removeprefix("bytes"))
    padded = (
        [b"\xff" * size + bytes(31 - size) + b"\x01", b"\xff" * size + b"\x01" + bytes(31 - size)] if size < 32 else []
    )
    return [b"\xff" * size + bytes(32 - size), *padded, b"\xff" * 32]


def by_eth_abi(t: str, word: bytes) -> tuple[bool, Any]:
    try:
        return True, named(abi_decode([t], word)[0], {"type": t})
    except DecodingError:
        return False, None


def agrees(t: str, word: bytes) -> None:
    read = word_reader(t)
    assert read is not None, t
    ok, expected = by_eth_abi(t, word)
    got = read(word)
    if ok:
        assert got == expected and type(got) is type(expected), (t, word.hex(), got, expected)
    else:
        assert got is None, (t, word.hex(), got)  # eth_abi rejects it: the fast path must not accept it


@pytest.mark.parametrize("t", STATIC)
def test_a_word_at_its_types_edges_reads_as_eth_abi_reads_it(t: str) -> None:
    for word in edges(t):
        agrees(t, word)


@settings(max_examples=300, deadline=None)
@given(t=st.sampled_from(STATIC), word=st.binary(min_size=32, max_size=32), small=st.integers(0, 255))
def test_any_word_reads_as_eth_abi_reads_it(t: str, word: bytes, small: int) -> None:
    agrees(t, word)
    agrees(t, bytes(31) + bytes([small]))  # mostly valid words too, not only random ones


def test_only_static_words_take_the_fast_path() -> None:
    for t in (
        "string",
        "bytes",
        "uint256[]",
        "(uint256,address)",
        "uint7",
        "uint264",
        "bytes33",
        "bytes0",
        "uint08",
        "bytes01",
    ):
        assert word_reader(t) is None, t


def test_an_event_reads_as_eth_abi_reads_it_and_a_log_of_the_wrong_length_goes_to_eth_abi() -> None:
    decoders = [d for d in event_decoders("LeaseMarket").values() if d.name == "EpochSettled"]
    (fast,) = decoders
    assert fast.readers is not None
    slow = dataclasses.replace(fast, readers=None)
    indexed = [i for i in fast.inputs if i["indexed"]]
    plain = [i for i in fast.inputs if not i["indexed"]]

    def sample(i: dict[str, Any], k: int) -> Any:
        return k % 2 == 0 if i["type"] == "bool" else (k * 7919) % (1 << 16)

    topics = [abi_encode([i["type"]], [sample(i, k)]) for k, i in enumerate(indexed)]
    data = abi_encode([i["type"] for i in plain], [sample(i, k) for k, i in enumerate(plain)])
    assert fast.decode(topics, data) == slow.decode(topics, data)
    assert fast._from_words(topics, data) is not None  # the fast path took it
    assert fast._from_words(topics, data + bytes(32)) is None  # anything unusual is eth_abi's to judge
    with pytest.raises(DecodingError):
        fast.decode(topics, data[:-32])  # a word short: eth_abi's own error, not a guess
    assert fast.decode(topics, data + bytes(32)) == slow.decode(topics, data + bytes(32))


def test_every_protocol_event_of_static_words_decodes_as_eth_abi_does() -> None:
    contracts = ("CapacityRegistry", "LeaseMarket", "MetricsOracle", "CreditMarket", "CapacityShares", "NavOracle")
    checked = 0
    for contract in contracts:
        for decoder in event_decoders(contract).values():
            if decoder.readers is None:
                continue
            args = [(i["type"], _value(i["type"], k), i["indexed"]) for k, i in enumerate(decoder.inputs)]
            topics = [abi_encode([t], [v]) for t, v, indexed in args if indexed]
            data = abi_encode(
                [t for t, _, indexed in args if not indexed], [v for _, v, indexed in args if not indexed]
            )
            assert decoder.decode(topics, data) == EventDecoder.decode(
                dataclasses.replace(decoder, readers=None), topics, data
            ), decoder.name
            checked += 1
    assert checked >= 20


def _value(t: str, k: int) -> Any:
    if t == "address":
        return "0x" + f"{k + 1:040x}"
    if t == "bool":
        return k % 2 == 1
    if t.startswith("bytes"):
        return bytes([k + 1]) * int(t[5:])
    if t.startswith("int"):
        return -k - 1
    return (1 << int(t[4:] or 256)) - 1 - k
