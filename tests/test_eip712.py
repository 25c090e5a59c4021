"""The EIP-712 observation and report: eth-account and the deployed contract agree bit for bit (shared
vectors), and the median rule is the contract's."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from eth_utils.crypto import keccak

from wellhead.chain.client import Protocol
from wellhead.chain.eip712 import (
    OBSERVATION_TYPE,
    REPORT_TYPE,
    SIGNED_OBSERVATION_TYPE,
    observation_digest,
    recover_digest,
    report_digest,
    sign_digest,
    sign_observation,
)
from wellhead.chain.observations import Observation, Report, aggregate, claim_from_json, report_from_json

VECTORS = json.loads((Path(__file__).parent / "vectors" / "report_eip712.json").read_text())
CHAIN, ORACLE = VECTORS["chainId"], VECTORS["verifyingContract"]


def _ints(v: object) -> object:
    """The vectors write integers as decimal strings."""
    if isinstance(v, dict):
        return {k: _ints(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_ints(x) for x in v]
    if isinstance(v, str) and not v.startswith("0x"):
        return int(v)
    return v


def test_vectors_match_eth_account() -> None:
    account = Account.from_key(VECTORS["signerKey"])
    assert account.address == VECTORS["signer"]
    for name, type_string in (
        ("Observation", OBSERVATION_TYPE),
        ("SignedObservation", SIGNED_OBSERVATION_TYPE),
        ("Report", REPORT_TYPE),
    ):
        assert VECTORS["types"][name] == type_string
        assert VECTORS["typeHashes"][name] == "0x" + keccak(text=type_string).hex()
    for case in VECTORS["observations"]:
        claim = claim_from_json(_ints(case["claim"]))  # type: ignore[arg-type]
        d = observation_digest(claim, CHAIN, ORACLE)
        assert "0x" + d.hex() == case["digest"]
        sig = sign_observation(claim, CHAIN, ORACLE, account)
        assert "0x" + sig.hex() == case["signature"]  # RFC 6979: deterministic
        assert recover_digest(d, sig) == account.address
    for case in VECTORS["reports"]:
        report = report_from_json(_ints(case["report"]))  # type: ignore[arg-type]
        d = report_digest(report, CHAIN, ORACLE)
        assert "0x" + d.hex() == case["digest"]
        assert "0x" + sign_digest(d, account).hex() == case["signature"]


def test_packing_round_trips() -> None:
    for case in VECTORS["reports"]:
        report = report_from_json(_ints(case["report"]))  # type: ignore[arg-type]
        assert Report.from_tuple(report.as_tuple()) == report
        assert len(report.as_tuple()[3]) == 73 * len(report.observations)


def test_contract_hashes_like_eth_account(protocol: Protocol) -> None:
    oracle = protocol.oracle
    assert "0x" + oracle.functions.REPORT_TYPEHASH().call().hex() == VECTORS["typeHashes"]["Report"]
    assert "0x" + oracle.functions.OBSERVATION_TYPEHASH().call().hex() == VECTORS["typeHashes"]["Observation"]
    for case in VECTORS["observations"]:
        claim = claim_from_json(_ints(case["claim"]))  # type: ignore[arg-type]
        on_chain = oracle.functions.hashObservation(
            claim.asset_id, claim.epoch, claim.grid_event_id, claim.observation.as_tuple()
        ).call()
        assert on_chain == observation_digest(claim, protocol.chain_id, oracle.address)
    for case in VECTORS["reports"]:
        report = report_from_json(_ints(case["report"]))  # type: ignore[arg-type]
        on_chain = oracle.functions.hashReport(report.as_tuple()).call()
        assert on_chain == report_digest(report, protocol.chain_id, oracle.address)


def _obs(observer: int, uptime: int, energy: int) -> Observation:
    return Observation(
        observer=observer,
        uptimeBps=uptime,
        gpuEnergyWh=energy,
        facilityEnergyWh=2 * energy,
        evidenceHash=bytes([observer]) * 32,
    )


def test_aggregate_is_the_lower_median_with_the_median_uptime_evidence() -> None:
    obs = [_obs(1, 9_900, 30), _obs(2, 0, 10), _obs(3, 9_950, 20), _obs(4, 9_800, 40)]
    a = aggregate(obs)
    assert a.uptime_bps == 9_800  # element 1 of [0, 9800, 9900, 9950]
    assert a.gpu_energy_wh == 20  # element 1 of [10, 20, 30, 40]
    assert a.evidence_hash == bytes([4]) * 32  # the observation that set the median uptime
    equal = [_obs(1, 10_000, 1), _obs(2, 10_000, 1), _obs(3, 10_000, 1)]
    assert aggregate(equal).evidence_hash == bytes([2]) * 32  # ties: the middle position, as on chain
