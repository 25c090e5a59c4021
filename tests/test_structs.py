"""Struct arguments are built by field name from the ABI, never by position."""

from __future__ import annotations

import pytest

from wellhead.chain.artifacts import abi
from wellhead.chain.enums import AssetStatus, LeaseClass, ReportStatus
from wellhead.chain.structs import struct_arg
from wellhead.core.errors import ConfigError

CURVE = {
    "basePricePerGpuHour": 1,
    "kinkBps": 2,
    "slope1Bps": 3,
    "slope2Bps": 4,
    "interruptibleDiscountBps": 5,
}


def _protocol_params(**overrides: object) -> dict[str, object]:
    names = [c["name"] for c in _components("CapacityRegistry", "setProtocolParams")]
    return {**{n: i for i, n in enumerate(names)}, **overrides}


def _components(artifact: str, function: str) -> list[dict[str, str]]:
    item = next(i for i in abi(artifact) if i.get("type") == "function" and i["name"] == function)
    components: list[dict[str, str]] = item["inputs"][0]["components"]
    return components


def test_fields_are_ordered_as_the_abi_declares_them() -> None:
    values = _protocol_params()
    assert struct_arg(
        "CapacityRegistry", "setProtocolParams", "ProtocolParams", dict(reversed(values.items()))
    ) == tuple(range(len(values)))


def test_nested_structs_by_name() -> None:
    names = [c["name"] for c in _components("CapacityRegistry", "registerAsset")]
    values: dict[str, object] = {n: n for n in names}
    values["curve"] = dict(reversed(CURVE.items()))
    built = struct_arg("CapacityRegistry", "registerAsset", "AssetParams", values)
    assert built[names.index("curve")] == (1, 2, 3, 4, 5)
    assert built[names.index("faultTolerance")] == "faultTolerance"


def test_a_missing_or_unknown_field_is_named() -> None:
    values = _protocol_params()
    del values["treasury"]
    with pytest.raises(ConfigError, match=r"unknown fields \['tresury'\], missing fields \['treasury'\]"):
        struct_arg("CapacityRegistry", "setProtocolParams", "ProtocolParams", {**values, "tresury": 1})


def test_the_generated_enums_match_the_contracts() -> None:
    assert [s.name for s in AssetStatus] == ["NONE", "ACTIVE", "PAUSED", "RETIRED"]
    assert (LeaseClass.FIRM, LeaseClass.INTERRUPTIBLE) == (0, 1)
    assert int(ReportStatus.VOIDED) == 5
