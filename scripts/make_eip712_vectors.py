"""Write tests/vectors/report_eip712.json: EIP-712 report digests and signatures from eth-account.

Both sides check these: pytest (eth-account, and the deployed contract's `hashReport`) and forge
(`test/forge/unit/Eip712Vectors.t.sol`, which runs the oracle's code at the vector's domain).
Regenerate only when the report type changes on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from eth_utils import keccak

from wellhead.chain.eip712 import REPORT_FIELDS, Report, digest, sign_report

KEY = "0x" + "a7" * 32
CHAIN_ID = 31337
ORACLE = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def main() -> None:
    account = Account.from_key(KEY)
    cases = [
        Report(assetId=1, epoch=0, uptimeBps=10_000, gpuEnergyWh=0, facilityEnergyWh=0, evidenceHash=b"\0" * 32),
        Report(
            assetId=7,
            epoch=4242,
            uptimeBps=9_612,
            curtailedBps=2_500,
            gridEventId=keccak(text="ERCOT-EEA-1"),
            gpuEnergyWh=1_234_567,
            facilityEnergyWh=1_500_000,
            miningEnergyWh=210_000,
            miningRevenue=12_345_678,
            renewableBps=6_200,
            carbonGramsPerKwh=180,
            evidenceHash=keccak(text="evidence"),
        ),
        Report(
            assetId=2**256 - 1,
            epoch=2**64 - 1,
            uptimeBps=1,
            curtailedBps=10_000,
            gridEventId=b"\xff" * 32,
            gpuEnergyWh=2**64 - 1,
            facilityEnergyWh=2**64 - 1,
            miningEnergyWh=2**64 - 1,
            miningRevenue=2**64 - 1,
            renewableBps=10_000,
            carbonGramsPerKwh=2**32 - 1,
            evidenceHash=b"\xff" * 32,
        ),
    ]
    typ = "Report(" + ",".join(f"{f['type']} {f['name']}" for f in REPORT_FIELDS) + ")"
    vectors = {
        "description": "EIP-712 MetricsOracle reports: digest and signature by `signerKey` (eth-account)",
        "typeString": typ,
        "typeHash": "0x" + keccak(text=typ).hex(),
        "chainId": CHAIN_ID,
        "verifyingContract": ORACLE,
        "signerKey": KEY,
        "signer": account.address,
        "cases": [
            {
                "report": {k: ("0x" + v.hex() if isinstance(v, bytes) else str(v)) for k, v in r.message().items()},
                "digest": "0x" + digest(r, CHAIN_ID, ORACLE).hex(),
                "signature": "0x" + sign_report(r, CHAIN_ID, ORACLE, account).hex(),
            }
            for r in cases
        ],
    }
    out = Path(__file__).resolve().parents[1] / "tests" / "vectors" / "report_eip712.json"
    out.write_text(json.dumps(vectors, indent=2) + "\n")
    print(f"wrote {len(cases)} vectors to {out}")


if __name__ == "__main__":
    main()
