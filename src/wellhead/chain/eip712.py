"""The MetricsOracle's EIP-712 report: one definition of the type, hashed and signed with eth-account.

The contract (`MetricsOracle.REPORT_TYPEHASH`) and this module must agree bit for bit; the shared test
vectors in tests/vectors/report_eip712.json are checked on both sides.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field

DOMAIN_NAME = "Wellhead MetricsOracle"
DOMAIN_VERSION = "1"
BPS = 10_000
UINT32 = 2**32 - 1
UINT64 = 2**64 - 1

REPORT_FIELDS: list[dict[str, str]] = [
    {"name": "assetId", "type": "uint256"},
    {"name": "epoch", "type": "uint64"},
    {"name": "uptimeBps", "type": "uint32"},
    {"name": "curtailedBps", "type": "uint32"},
    {"name": "gridEventId", "type": "bytes32"},
    {"name": "gpuEnergyWh", "type": "uint64"},
    {"name": "facilityEnergyWh", "type": "uint64"},
    {"name": "miningEnergyWh", "type": "uint64"},
    {"name": "miningRevenue", "type": "uint64"},
    {"name": "renewableBps", "type": "uint32"},
    {"name": "carbonGramsPerKwh", "type": "uint32"},
    {"name": "evidenceHash", "type": "bytes32"},
]


class Report(BaseModel):
    """One epoch's measurements of one asset, as an attestor signs them."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    asset_id: int = Field(alias="assetId", ge=0)
    epoch: int = Field(ge=0, le=UINT64)
    uptime_bps: int = Field(alias="uptimeBps", ge=0, le=BPS)
    curtailed_bps: int = Field(default=0, alias="curtailedBps", ge=0, le=BPS)
    grid_event_id: bytes = Field(default=b"\x00" * 32, alias="gridEventId", min_length=32, max_length=32)
    gpu_energy_wh: int = Field(alias="gpuEnergyWh", ge=0, le=UINT64)
    facility_energy_wh: int = Field(alias="facilityEnergyWh", ge=0, le=UINT64)
    # hybrid sites: the Bitcoin miners' energy and the pool's earnings (stablecoin base units) in the epoch
    mining_energy_wh: int = Field(default=0, alias="miningEnergyWh", ge=0, le=UINT64)
    mining_revenue: int = Field(default=0, alias="miningRevenue", ge=0, le=UINT64)
    renewable_bps: int = Field(default=0, alias="renewableBps", ge=0, le=BPS)
    carbon_grams_per_kwh: int = Field(default=0, alias="carbonGramsPerKwh", ge=0, le=UINT32)
    evidence_hash: bytes = Field(alias="evidenceHash", min_length=32, max_length=32)

    def message(self) -> dict[str, Any]:
        """The EIP-712 message (field names as in Solidity)."""
        return self.model_dump(by_alias=True)

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple for `submitReport`."""
        m = self.message()
        return tuple(m[f["name"]] for f in REPORT_FIELDS)


EIP712_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def typed_document(
    primary: str,
    fields: list[dict[str, str]],
    domain_name: str,
    chain_id: int,
    contract: str,
    message: dict[str, Any],
) -> dict[str, Any]:
    """A full EIP-712 typed-data document of one of the protocol's contracts (domain version "1")."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_FIELDS, primary: fields},
        "primaryType": primary,
        "domain": {"name": domain_name, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": contract},
        "message": message,
    }


def digest_of(message: SignableMessage) -> bytes:
    """The 32-byte EIP-712 digest a contract recovers signers from (EIP-191 version 0x01)."""
    return keccak(b"\x19" + message.version + message.header + message.body)


def typed_data(report: Report, chain_id: int, oracle: str) -> dict[str, Any]:
    """The full EIP-712 typed-data document (what a wallet shows and signs)."""
    return typed_document("Report", REPORT_FIELDS, DOMAIN_NAME, chain_id, oracle, report.message())


def signable(report: Report, chain_id: int, oracle: str) -> SignableMessage:
    return encode_typed_data(full_message=typed_data(report, chain_id, oracle))


def digest(report: Report, chain_id: int, oracle: str) -> bytes:
    """The 32-byte EIP-712 digest the oracle recovers signers from."""
    return digest_of(signable(report, chain_id, oracle))


def sign_report(report: Report, chain_id: int, oracle: str, account: LocalAccount) -> bytes:
    """65-byte signature r || s || v."""
    signed = Account.sign_message(signable(report, chain_id, oracle), account.key)
    return bytes(signed.signature)


def recover_signer(report: Report, chain_id: int, oracle: str, signature: bytes) -> str:
    return str(Account.recover_message(signable(report, chain_id, oracle), signature=signature))


def report_to_json(report: Report) -> dict[str, object]:
    """The report as JSON-safe values (bytes as 0x-hex), Solidity field names."""
    return {k: ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in report.message().items()}


def report_from_json(data: dict[str, object]) -> Report:
    values = {k: (bytes.fromhex(v[2:]) if isinstance(v, str) and v.startswith("0x") else v) for k, v in data.items()}
    return Report.model_validate(values)
