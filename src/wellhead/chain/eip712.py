"""The MetricsOracle's EIP-712 types: an attestor's observation and the co-signed report, hashed and signed with
eth-account, and the median aggregation the contract performs.

The contract (`ReportHashLib`) and this module must agree bit for bit; the shared test vectors in
tests/vectors/report_eip712.json are checked on both sides.

The protocol (README, "Attestation"): each attestor signs its own `Observation` of an epoch (the EIP-712
`SignedObservation`, which adds the asset, the epoch and the grid event). A `Report` gathers at least 2f+1
observations of distinct attestors with their signatures; at least f+1 attestors co-sign the whole report after
checking every observation signature; the contract takes the median of each field itself.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from wellhead.chain.observations import OBSERVATION_FIELDS, ObservationClaim, Report

DOMAIN_NAME = "Wellhead MetricsOracle"
DOMAIN_VERSION = "2"

SIGNED_OBSERVATION_FIELDS: list[dict[str, str]] = [
    {"name": "assetId", "type": "uint256"},
    {"name": "epoch", "type": "uint64"},
    {"name": "gridEventId", "type": "bytes32"},
    {"name": "observation", "type": "Observation"},
]
REPORT_FIELDS: list[dict[str, str]] = [
    {"name": "assetId", "type": "uint256"},
    {"name": "epoch", "type": "uint64"},
    {"name": "gridEventId", "type": "bytes32"},
    {"name": "observations", "type": "Observation[]"},
    {"name": "observationSignatures", "type": "bytes"},
]
EIP712_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def domain_separator(domain: dict[str, Any]) -> bytes:
    """The EIP-712 domain separator of `domain` (name, version, chainId, verifyingContract), as eth-account
    hashes it: the header of any message signed in that domain."""
    probe = encode_typed_data(
        domain_data=domain, message_types={"Probe": [{"name": "x", "type": "uint256"}]}, message_data={"x": 0}
    )
    return bytes(probe.header)


def type_string(primary: str, fields: list[dict[str, str]]) -> str:
    return primary + "(" + ",".join(f"{f['type']} {f['name']}" for f in fields) + ")"


OBSERVATION_TYPE = type_string("Observation", OBSERVATION_FIELDS)
SIGNED_OBSERVATION_TYPE = type_string("SignedObservation", SIGNED_OBSERVATION_FIELDS) + OBSERVATION_TYPE
REPORT_TYPE = type_string("Report", REPORT_FIELDS) + OBSERVATION_TYPE


def typed_document(
    primary: str,
    fields: list[dict[str, str]],
    domain_name: str,
    chain_id: int,
    contract: str,
    message: dict[str, Any],
    *,
    version: str = "1",
    extra_types: dict[str, list[dict[str, str]]] | None = None,
) -> dict[str, Any]:
    """A full EIP-712 typed-data document of one of the protocol's contracts."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_FIELDS, primary: fields, **(extra_types or {})},
        "primaryType": primary,
        "domain": {"name": domain_name, "version": version, "chainId": chain_id, "verifyingContract": contract},
        "message": message,
    }


def digest_of(message: SignableMessage) -> bytes:
    """The 32-byte EIP-712 digest a contract recovers signers from (EIP-191 version 0x01)."""
    return keccak(b"\x19" + message.version + message.header + message.body)


def _oracle_document(
    primary: str, fields: list[dict[str, str]], chain_id: int, oracle: str, message: dict[str, Any]
) -> dict[str, Any]:
    return typed_document(
        primary,
        fields,
        DOMAIN_NAME,
        chain_id,
        oracle,
        message,
        version=DOMAIN_VERSION,
        extra_types={"Observation": OBSERVATION_FIELDS},
    )


def observation_typed_data(claim: ObservationClaim, chain_id: int, oracle: str) -> dict[str, Any]:
    """The full EIP-712 document an attestor signs for its observation."""
    return _oracle_document("SignedObservation", SIGNED_OBSERVATION_FIELDS, chain_id, oracle, claim.message())


def report_typed_data(report: Report, chain_id: int, oracle: str) -> dict[str, Any]:
    """The full EIP-712 document the co-signers sign."""
    return _oracle_document("Report", REPORT_FIELDS, chain_id, oracle, report.message())


def observation_digest(claim: ObservationClaim, chain_id: int, oracle: str) -> bytes:
    return digest_of(encode_typed_data(full_message=observation_typed_data(claim, chain_id, oracle)))


def report_digest(report: Report, chain_id: int, oracle: str) -> bytes:
    """The digest the co-signers sign (`MetricsOracle.hashReport`)."""
    return digest_of(encode_typed_data(full_message=report_typed_data(report, chain_id, oracle)))


def sign_digest(digest: bytes, account: LocalAccount) -> bytes:
    """65-byte signature r || s || v of a 32-byte digest."""
    return bytes(Account.unsafe_sign_hash(digest, account.key).signature)


def recover_digest(digest: bytes, signature: bytes) -> str:
    return str(Account._recover_hash(digest, signature=signature))


def sign_observation(claim: ObservationClaim, chain_id: int, oracle: str, account: LocalAccount) -> bytes:
    return sign_digest(observation_digest(claim, chain_id, oracle), account)


def invalid_observers(report: Report, attestors: tuple[str, ...] | list[str], chain_id: int, oracle: str) -> list[int]:
    """The observers whose signature in `report` does not recover to them (what a co-signer refuses, and what
    `proveObservationFault` settles on chain)."""
    bad = []
    for i, claim in enumerate(report.claims()):
        o = claim.observation
        try:
            signer = recover_digest(observation_digest(claim, chain_id, oracle), report.observation_signature(i))
        except Exception:
            signer = ""
        if o.observer > len(attestors) or signer != attestors[o.observer - 1]:
            bad.append(o.observer)
    return bad
