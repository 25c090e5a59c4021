"""The GridLedger's EIP-712 grid event: curtailment windows attested by an agent (OpenADR) or the operator.

One definition of the type, hashed and signed with eth-account; `GridLedger.GRID_EVENT_TYPEHASH` must agree
(checked against the contract's `hashEvent` in the tests).
"""

from __future__ import annotations

import hashlib
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field, model_validator

from wellhead.chain.eip712 import digest_of, typed_document
from wellhead.chain.enums import GridEventSource  # OPEN_ADR: the site agent's VEN; MANUAL: the operator's
from wellhead.core.constants import UINT64_MAX

DOMAIN_NAME = "Wellhead GridLedger"
MAX_EVENT_DURATION = 86_400  # GridLedger.MAX_EVENT_DURATION

GRID_EVENT_FIELDS: list[dict[str, str]] = [
    {"name": "assetId", "type": "uint256"},
    {"name": "eventId", "type": "bytes32"},
    {"name": "source", "type": "uint8"},
    {"name": "startsAt", "type": "uint64"},
    {"name": "endsAt", "type": "uint64"},
    {"name": "payloadHash", "type": "bytes32"},
]


def grid_event_id(program_event_id: str) -> bytes:
    """The on-chain id of a program's event (OpenADR: "<vtn id>/<event id>")."""
    return keccak(text=program_event_id)


def declaration_id(asset_id: int, event_id: bytes, signer: str) -> bytes:
    """What reports name: `GridLedger.declarationId`, keccak256(abi.encode(assetId, eventId, signer)), scoped to
    the asset and to whoever declared the event."""
    return keccak(encode(["uint256", "bytes32", "address"], [asset_id, event_id, signer]))


def payload_hash(payload: bytes) -> bytes:
    """SHA-256 of the notice as received, kept in the evidence."""
    return hashlib.sha256(payload).digest()


class GridEvent(BaseModel):
    """One curtailment window of one asset, as its signer attests it."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    asset_id: int = Field(alias="assetId", gt=0)
    event_id: bytes = Field(alias="eventId", min_length=32, max_length=32)
    source: GridEventSource
    starts_at: int = Field(alias="startsAt", ge=0, le=UINT64_MAX)
    ends_at: int = Field(alias="endsAt", ge=0, le=UINT64_MAX)
    payload_hash: bytes = Field(alias="payloadHash", min_length=32, max_length=32)

    @model_validator(mode="after")
    def _window(self) -> GridEvent:
        if not 0 < self.ends_at - self.starts_at <= MAX_EVENT_DURATION:
            raise ValueError(f"a grid event lasts 1 s to {MAX_EVENT_DURATION} s; got {self.starts_at}..{self.ends_at}")
        return self

    def message(self) -> dict[str, Any]:
        m = self.model_dump(by_alias=True)
        m["source"] = int(self.source)
        return m

    def as_tuple(self) -> tuple[Any, ...]:
        m = self.message()
        return tuple(m[f["name"]] for f in GRID_EVENT_FIELDS)


def signable(event: GridEvent, chain_id: int, ledger: str) -> SignableMessage:
    document = typed_document("GridEvent", GRID_EVENT_FIELDS, DOMAIN_NAME, chain_id, ledger, event.message())
    return encode_typed_data(full_message=document)


def digest(event: GridEvent, chain_id: int, ledger: str) -> bytes:
    return digest_of(signable(event, chain_id, ledger))


def sign_grid_event(event: GridEvent, chain_id: int, ledger: str, account: LocalAccount) -> bytes:
    """65-byte signature r || s || v."""
    return bytes(Account.sign_message(signable(event, chain_id, ledger), account.key).signature)
