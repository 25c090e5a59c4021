"""Compiling npm Solidity sources that the project does not build (benchmark anchors, Morpho Blue) through
the project's solc-js launchers, with a cache: importable by scripts and tests alike."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from wellhead.chain.client import send

ROOT = Path(__file__).resolve().parent.parent
MORPHO = "node_modules/@morpho-org/morpho-blue/src"


def compile_sources(
    launcher: str, files: list[str], evm: str, runs: int, remappings: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Standard-JSON compile through the project's solc-js launcher: {contract name: {abi, bytecode}}.

    The output is cached under out/bench-anchors, keyed by the request, the launcher and the npm lock file
    (which pins the compilers and the imported packages): Morpho Blue alone takes ~30 s to compile."""
    request = {
        "language": "Solidity",
        "sources": {f: {"content": (ROOT / f).read_text()} for f in files},
        "settings": {
            "remappings": ["@openzeppelin/=node_modules/@openzeppelin/", *(remappings or [])],
            "optimizer": {"enabled": True, "runs": runs},
            "evmVersion": evm,
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }
    key = hashlib.sha256(
        (launcher + json.dumps(request, sort_keys=True)).encode() + (ROOT / "package-lock.json").read_bytes()
    ).hexdigest()[:16]
    cached = ROOT / "out" / "bench-anchors" / f"{key}.json"
    if cached.exists():
        result: dict[str, dict[str, Any]] = json.loads(cached.read_text())
        return result
    done = subprocess.run(
        [str(ROOT / "tools/solc" / launcher), "--standard-json", "--base-path", str(ROOT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    output = json.loads(done.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise SystemExit("anchor compile failed:\n" + "\n".join(errors))
    result = {
        name: {"abi": c["abi"], "bytecode": "0x" + c["evm"]["bytecode"]["object"]}
        for by_name in output["contracts"].values()
        for name, c in by_name.items()
    }
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result))
    return result


def morpho_blue() -> dict[str, dict[str, Any]]:
    """Morpho Blue 1.0.0 with its mocks. Its own settings are via-IR with 999,999 runs; via-IR under solc-js
    takes ~20 minutes here, so it is compiled without it (which, if anything, makes it slightly dearer)."""
    return compile_sources(
        "solc-0.8.19",
        [f"{MORPHO}/Morpho.sol", f"{MORPHO}/mocks/OracleMock.sol", f"{MORPHO}/mocks/IrmMock.sol"],
        "paris",
        999_999,
    )


def deploy(w3: Web3, who: LocalAccount, artifact: dict[str, Any], *args: Any) -> Contract:
    """Deploys a compiled artifact ({abi, bytecode}) and returns the contract."""
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    # send builds any transactable, constructors included
    receipt = send(w3, who, factory.constructor(*args))  # type: ignore[arg-type]
    address = receipt["contractAddress"]
    assert address is not None, "a creation receipt names the contract"
    return w3.eth.contract(address=address, abi=artifact["abi"])
