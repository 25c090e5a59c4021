"""The contracts' ABIs and bytecode, shipped in the package (exported by scripts/export_abis.py)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address

CONTRACT_NAMES = (
    "CapacityRegistry",
    "CapacityShares",
    "CapacitySharesFactory",
    "BtcCreditMarket",
    "CreditMarket",
    "GridLedger",
    "LeaseMarket",
    "MetricsOracle",
    "NavOracle",
    "NavOracleFactory",
    "PaymentRouter",
    "TestAggregator",
    "TestFeeToken",
    "TestStablecoin",
    "TestWrappedBtc",
)


@cache
def artifact(name: str) -> dict[str, Any]:
    """ABI and creation bytecode of one contract."""
    if name not in CONTRACT_NAMES:
        raise KeyError(f"unknown contract {name!r}; known: {', '.join(CONTRACT_NAMES)}")
    text = resources.files("wellhead.chain").joinpath("artifacts", f"{name}.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def abi(name: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = artifact(name)["abi"]
    return result


def _type_of(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_type_of(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


@cache
def custom_errors() -> dict[bytes, tuple[str, list[str], list[str]]]:
    """Every custom error of every contract, by 4-byte selector: (name, arg names, arg types)."""
    errors: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for name in CONTRACT_NAMES:
        for item in abi(name):
            if item.get("type") != "error":
                continue
            types = [_type_of(p) for p in item["inputs"]]
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            errors[selector] = (item["name"], [p["name"] for p in item["inputs"]], types)
    return errors


def decode_error(data: bytes) -> tuple[str, dict[str, object]]:
    """Name and arguments of a custom error from revert data; ("UnknownError", {...}) if not ours."""
    selector, payload = data[:4], data[4:]
    known = custom_errors().get(selector)
    if known is None:
        if selector == bytes.fromhex("08c379a0"):
            (reason,) = abi_decode(["string"], payload)
            return "Error", {"reason": reason}
        return "UnknownError", {"data": "0x" + data.hex()}
    name, names, types = known
    values = abi_decode(types, payload)
    rendered: dict[str, object] = {}
    for arg, typ, value in zip(names, types, values, strict=True):
        if typ == "address":
            value = to_checksum_address(value)
        elif isinstance(value, bytes):
            value = "0x" + value.hex()
        rendered[arg] = value
    return name, rendered
