"""The EIP-712 report: eth-account and the deployed contract agree bit for bit (shared vectors)."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from eth_utils import keccak

from wellhead.chain.client import Protocol
from wellhead.chain.eip712 import REPORT_FIELDS, Report, digest, recover_signer, sign_report

VECTORS = json.loads((Path(__file__).parent / "vectors" / "report_eip712.json").read_text())


def _report(raw: dict[str, str]) -> Report:
    return Report.model_validate({k: (bytes.fromhex(v[2:]) if v.startswith("0x") else int(v)) for k, v in raw.items()})


def test_vectors_match_eth_account() -> None:
    account = Account.from_key(VECTORS["signerKey"])
    assert account.address == VECTORS["signer"]
    type_string = "Report(" + ",".join(f"{f['type']} {f['name']}" for f in REPORT_FIELDS) + ")"
    assert type_string == VECTORS["typeString"]
    assert "0x" + keccak(text=type_string).hex() == VECTORS["typeHash"]
    for case in VECTORS["cases"]:
        report = _report(case["report"])
        d = digest(report, VECTORS["chainId"], VECTORS["verifyingContract"])
        assert "0x" + d.hex() == case["digest"]
        sig = sign_report(report, VECTORS["chainId"], VECTORS["verifyingContract"], account)
        assert "0x" + sig.hex() == case["signature"]  # RFC 6979: deterministic
        assert recover_signer(report, VECTORS["chainId"], VECTORS["verifyingContract"], sig) == account.address


def test_contract_hashes_like_eth_account(protocol: Protocol) -> None:
    oracle = protocol.oracle
    assert "0x" + oracle.functions.REPORT_TYPEHASH().call().hex() == VECTORS["typeHash"]
    for case in VECTORS["cases"]:
        report = _report(case["report"])
        on_chain = oracle.functions.hashReport(report.as_tuple()).call()
        assert on_chain == digest(report, protocol.chain_id, oracle.address)
