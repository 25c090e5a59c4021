"""Write tests/vectors/report_eip712.json: EIP-712 observation and report digests and signatures from eth-account.

Both sides check these: pytest (eth-account, and the deployed contract's `hashObservation` / `hashReport`) and
forge (`test/forge/unit/Eip712Vectors.t.sol`, which runs the oracle's code at the vector's domain).
Regenerate only when the types change on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import keccak

from wellhead.chain.eip712 import (
    OBSERVATION_TYPE,
    REPORT_TYPE,
    SIGNED_OBSERVATION_TYPE,
    observation_digest,
    report_digest,
    sign_digest,
    sign_observation,
)
from wellhead.chain.observations import Observation, ObservationClaim, build_report, to_json

KEY = "0x" + "a7" * 32
CHAIN_ID = 31337


def _strings(v: Any) -> Any:
    """Integers as decimal strings: forge's JSON reader and Python both read them exactly, 2^256 - 1 included."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dict):
        return {k: _strings(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_strings(x) for x in v]
    return v


ORACLE = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _observations() -> list[Observation]:
    return [
        Observation(observer=1, uptimeBps=10_000, gpuEnergyWh=0, facilityEnergyWh=0, evidenceHash=b"\0" * 32),
        Observation(
            observer=2,
            uptimeBps=9_612,
            curtailedBps=2_500,
            gpuEnergyWh=1_234_567,
            facilityEnergyWh=1_500_000,
            miningEnergyWh=210_000,
            miningRevenue=12_345_678,
            renewableBps=6_200,
            carbonGramsPerKwh=180,
            evidenceHash=keccak(text="evidence"),
        ),
        Observation(
            observer=32,
            uptimeBps=1,
            curtailedBps=10_000,
            gpuEnergyWh=2**64 - 1,
            facilityEnergyWh=2**64 - 1,
            miningEnergyWh=2**64 - 1,
            miningRevenue=2**64 - 1,
            renewableBps=10_000,
            carbonGramsPerKwh=2**32 - 1,
            evidenceHash=b"\xff" * 32,
        ),
    ]


def main() -> None:
    account = Account.from_key(KEY)
    obs = _observations()
    claims = [
        ObservationClaim(assetId=1, epoch=0, observation=obs[0]),
        ObservationClaim(assetId=7, epoch=4242, gridEventId=keccak(text="ERCOT-EEA-1"), observation=obs[1]),
        ObservationClaim(assetId=2**256 - 1, epoch=2**64 - 1, gridEventId=b"\xff" * 32, observation=obs[2]),
    ]
    grid = keccak(text="ERCOT-EEA-1")
    # a report carries values the contract accepts (16-bit bps and carbon): the third observation's extremes
    # are only for the struct hash above
    reportable = [*obs[:2], obs[2].model_copy(update={"carbon_grams_per_kwh": 2_000, "uptime_bps": 10_000})]
    signed = [
        (
            o,
            sign_observation(
                ObservationClaim(assetId=7, epoch=4242, gridEventId=grid, observation=o), CHAIN_ID, ORACLE, account
            ),
        )
        for o in reportable
    ]
    reports = [build_report(7, 4242, grid, signed), build_report(7, 4242, grid, signed[1:])]
    vectors = {
        "description": "EIP-712 MetricsOracle observations and reports: digest and signature by `signerKey`",
        "types": {"Observation": OBSERVATION_TYPE, "SignedObservation": SIGNED_OBSERVATION_TYPE, "Report": REPORT_TYPE},
        "typeHashes": {
            "Observation": "0x" + keccak(text=OBSERVATION_TYPE).hex(),
            "SignedObservation": "0x" + keccak(text=SIGNED_OBSERVATION_TYPE).hex(),
            "Report": "0x" + keccak(text=REPORT_TYPE).hex(),
        },
        "chainId": CHAIN_ID,
        "verifyingContract": ORACLE,
        "signerKey": KEY,
        "signer": account.address,
        "observations": [
            {
                "claim": _strings(to_json(c)),
                "digest": "0x" + observation_digest(c, CHAIN_ID, ORACLE).hex(),
                "signature": "0x" + sign_observation(c, CHAIN_ID, ORACLE, account).hex(),
            }
            for c in claims
        ],
        "reports": [
            {
                "report": _strings(to_json(r)),
                "observationCount": len(r.observations),
                "digest": "0x" + report_digest(r, CHAIN_ID, ORACLE).hex(),
                "signature": "0x" + sign_digest(report_digest(r, CHAIN_ID, ORACLE), account).hex(),
            }
            for r in reports
        ],
    }
    out = Path(__file__).resolve().parents[1] / "tests" / "vectors" / "report_eip712.json"
    out.write_text(json.dumps(vectors, indent=2) + "\n")
    print(f"wrote {len(claims)} observation and {len(reports)} report vectors to {out}")


if __name__ == "__main__":
    main()
