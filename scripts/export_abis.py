"""Export the deployable contracts' ABI and bytecode from forge's `out/` into the Python package.

The runtime package `wellhead` then needs no compiler: `wellhead.chain.artifacts` ships what deploying
and calling the contracts takes. `--check` fails (exit 1) when the committed artifacts are stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out"
DEST = ROOT / "src" / "wellhead" / "chain" / "artifacts"
CONTRACTS = {
    "CapacityRegistry": "CapacityRegistry.sol",
    "CapacityShares": "CapacityShares.sol",
    "CapacitySharesFactory": "CapacitySharesFactory.sol",
    "BtcCreditMarket": "BtcCreditMarket.sol",
    "CreditMarket": "CreditMarket.sol",
    "GridLedger": "GridLedger.sol",
    "LeaseMarket": "LeaseMarket.sol",
    "MetricsOracle": "MetricsOracle.sol",
    "NavOracle": "NavOracle.sol",
    "NavOracleFactory": "NavOracleFactory.sol",
    "PaymentRouter": "PaymentRouter.sol",
    "TestAggregator": "TestAggregator.sol",
    "TestFeeToken": "TestFeeToken.sol",
    "TestStablecoin": "TestStablecoin.sol",
    "TestWrappedBtc": "TestWrappedBtc.sol",
}


def render(name: str, source: str) -> str:
    built = json.loads((OUT / source / f"{name}.json").read_text())
    artifact = {
        "contractName": name,
        "abi": built["abi"],
        "bytecode": built["bytecode"]["object"],
    }
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed artifacts are stale")
    args = parser.parse_args()
    stale = []
    DEST.mkdir(parents=True, exist_ok=True)
    for name, source in CONTRACTS.items():
        text = render(name, source)
        path = DEST / f"{name}.json"
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"stale ABI artifacts: {', '.join(stale)}; run `make abi` and commit", file=sys.stderr)
        return 1
    print(f"{'checked' if args.check else 'exported'} {len(CONTRACTS)} artifacts in {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
