"""Types every resource shares: amounts, addresses, pages, hashes."""

from __future__ import annotations

import re
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from web3 import Web3

from wellhead.core.constants import BTC_DECIMALS, SHARE_DECIMALS, UINT256_MAX
from wellhead.core.units import fmt_units, parse_units, stablecoin_decimals
from wellhead.gateway.problems import Problem

HASH32 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
# the pattern is in the document; `parse_address` enforces it (any letter case) with its own code, invalid_address
ADDRESS_SCHEMA = {
    "pattern": ADDRESS_PATTERN,
    "description": "all lower case, all upper case, or mixed case with a valid EIP-55 checksum",
    "examples": ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
}
Address = Annotated[str, Field(max_length=64, json_schema_extra=ADDRESS_SCHEMA)]
MAX_SAFE_INTEGER = 2**53 - 1  # ids and counts in bodies: exact in every client (JSON numbers are doubles to many)
INT64_MAX = 2**63 - 1  # the database's integers: a larger time filter is the client's 422, never the server's 503
T = TypeVar("T")
__all__ = [
    "ADDRESS_PATTERN",
    "ADDRESS_SCHEMA",
    "BTC_DECIMALS",
    "HASH32",
    "INT64_MAX",
    "MAX_SAFE_INTEGER",
    "SHARE_DECIMALS",
    "UINT256_MAX",
    "Address",
    "Amount",
    "AmountIn",
    "Page",
    "parse_address",
]


def parse_address(value: str, field: str) -> str:
    """`value` checksummed. 0x and 40 hex digits, in one letter case or with a valid EIP-55 checksum: a mixed-case
    address whose checksum is wrong is a typo, never re-checksummed into another address (the client's 422
    `invalid_address`, as for anything else)."""
    if not re.fullmatch(ADDRESS_PATTERN, value) or not Web3.is_address(value):
        raise Problem(422, "invalid_address", f"{field} is not an Ethereum address (EIP-55): {value!r}", field)
    return Web3.to_checksum_address(value)


class Amount(BaseModel):
    """An amount of a token: exact base units as a string, and the same as a decimal."""

    base_units: str
    decimal: str

    @classmethod
    def of(cls, value: int, decimals: int | None = None) -> Amount:
        """`value` base units of a token of `decimals` (the deployment's stablecoin unless given)."""
        if decimals is None:
            decimals = stablecoin_decimals()
        return cls(base_units=str(value), decimal=fmt_units(value, decimals).replace(",", ""))

    @classmethod
    def maybe(cls, value: int | None) -> Amount | None:
        return None if value is None else cls.of(value)


class AmountIn(BaseModel):
    """An amount in: `base_units` (an integer string) or `decimal` (in whole tokens), not both."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON as the document types it: `true` is no integer
    base_units: str | None = Field(default=None, pattern=r"^[0-9]{1,78}$", examples=["1500000"])
    decimal: str | None = Field(default=None, max_length=100, examples=["1.5"])

    @model_validator(mode="after")
    def _one(self) -> AmountIn:
        if (self.base_units is None) == (self.decimal is None):
            raise ValueError("give exactly one of base_units and decimal")
        return self

    def units(self, decimals: int, field: str) -> int:
        if self.base_units is not None:
            value = int(self.base_units)
        else:
            try:
                value = parse_units(self.decimal or "", decimals)
            except ValueError as exc:
                raise Problem(422, "invalid_amount", f"{field}: {exc}", f"{field}.decimal") from None
        if value > UINT256_MAX:
            raise Problem(422, "amount_out_of_range", f"{field} is above 2^256 - 1", field)
        return value


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
