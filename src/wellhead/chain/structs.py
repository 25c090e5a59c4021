"""Struct arguments by name: the tuple a contract function takes for a struct parameter, built from its fields as
the ABI names them, so no caller orders 18 fields by hand. A missing or unknown field is a ConfigError."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wellhead.chain.artifacts import abi
from wellhead.core.errors import ConfigError


def _components(artifact: str, function: str, struct: str) -> list[dict[str, Any]]:
    for item in abi(artifact):
        if item.get("type") == "function" and item["name"] == function:
            for argument in item["inputs"]:
                if argument.get("internalType") == f"struct {struct}":
                    components: list[dict[str, Any]] = argument["components"]
                    return components
    raise ConfigError(f"{artifact}.{function} takes no {struct}")


def _ordered(components: list[dict[str, Any]], values: Mapping[str, Any], where: str) -> tuple[Any, ...]:
    names = [c["name"] for c in components]
    unknown = sorted(set(values) - set(names))
    missing = [n for n in names if n not in values]
    if unknown or missing:
        raise ConfigError(f"{where}: unknown fields {unknown}, missing fields {missing}")
    out = []
    for c in components:
        value = values[c["name"]]
        if c["type"] == "tuple" and isinstance(value, Mapping):
            value = _ordered(c["components"], value, f"{where}.{c['name']}")
        out.append(value)
    return tuple(out)


def struct_arg(artifact: str, function: str, struct: str, values: Mapping[str, Any]) -> tuple[Any, ...]:
    """`values` (Solidity field names; nested structs as mappings) as the tuple `function` takes for its argument
    of type `struct` (the struct's name in Solidity)."""
    return _ordered(_components(artifact, function, struct), values, f"{artifact}.{function}({struct})")
