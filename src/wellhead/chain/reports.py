"""Accepted reports read back from the chain: the `ReportAccepted` event carries the medians settlement uses;
the observations behind them are in the submitting transaction's input (`submitReport`), pinned by the
co-signed digest. Every other field's median follows from them by the contract's rule (`observations.aggregate`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract

from wellhead.chain.eip712 import report_digest
from wellhead.chain.enums import ReportStatus
from wellhead.chain.observations import Aggregate, Report, aggregate
from wellhead.core.errors import ReportDecodeError


@dataclass(frozen=True)
class AcceptedReport:
    asset_id: int
    epoch: int
    uptime_bps: int  # what settlement uses (the event)
    curtailed_bps: int
    observers: int  # bitmap: bit i is attestor index i + 1
    cosigners: int
    digest: bytes
    report: Report  # the observations and their signatures, as submitted
    aggregate: Aggregate  # every field's median, by the contract's rule
    tx_hash: bytes


@dataclass(frozen=True)
class StoredReport:
    """`MetricsOracle.reportOf`, by name."""

    uptime_bps: int
    curtailed_bps: int
    status: ReportStatus
    challenge_ends_at: int
    cosigners: int
    digest: bytes

    @classmethod
    def read(cls, oracle: Contract, asset_id: int, epoch: int) -> StoredReport:
        up, cut, status, ends, cosigners, digest = oracle.functions.reportOf(asset_id, epoch).call()
        return cls(int(up), int(cut), ReportStatus(int(status)), int(ends), int(cosigners), bytes(digest))

    @property
    def exists(self) -> bool:
        return self.status != ReportStatus.NONE


def attestor_stake(oracle: Contract, asset_id: int, account: str) -> int:
    """`MetricsOracle.attestorOf(...).stake`: what `account` has staked as the asset's attestor (0 if it is none)."""
    _index, stake = oracle.functions.attestorOf(asset_id, account).call()
    return int(stake)


def bits(bitmap: int) -> list[int]:
    """The 1-based attestor indexes in a bitmap."""
    return [i + 1 for i in range(32) if bitmap >> i & 1]


def decode_submission(oracle: Contract, tx_input: bytes | str) -> tuple[Report, bytes]:
    """The report and the co-signatures of a `submitReport` call."""
    try:
        fn, args = oracle.decode_function_input(tx_input)
    except ValueError as exc:
        raise ReportDecodeError(f"not a MetricsOracle call: {exc}") from None
    if fn.fn_name != "submitReport":
        raise ReportDecodeError(f"the transaction calls {fn.fn_name}, not submitReport")
    return Report.from_tuple(args["report"]), bytes(args["cosignatures"])


def report_from_transaction(oracle: Contract, tx: Any, digest: bytes, chain_id: int) -> Report:
    """The report a `submitReport` transaction carried, checked against the digest the oracle accepted."""
    to = tx.get("to")
    if to is None or Web3.to_checksum_address(to) != Web3.to_checksum_address(oracle.address):
        raise ReportDecodeError("the report was submitted through another contract: read it from its evidence")
    report, _ = decode_submission(oracle, tx["input"])
    if report_digest(report, chain_id, oracle.address) != digest:
        raise ReportDecodeError(f"the transaction's report does not match the accepted digest 0x{digest.hex()}")
    return report


def accepted_report(w3: Web3, oracle: Contract, log: Any) -> AcceptedReport:
    """The full report behind one ReportAccepted log, checked against the digest the event carries."""
    a = log["args"]
    digest = bytes(a["digest"])
    report = report_from_transaction(oracle, w3.eth.get_transaction(log["transactionHash"]), digest, w3.eth.chain_id)
    return AcceptedReport(
        asset_id=int(a["assetId"]),
        epoch=int(a["epoch"]),
        uptime_bps=int(a["uptimeBps"]),
        curtailed_bps=int(a["curtailedBps"]),
        observers=int(a["observers"]),
        cosigners=int(a["cosigners"]),
        digest=digest,
        report=report,
        aggregate=aggregate(report.observations, report.grid_event_id),
        tx_hash=bytes(log["transactionHash"]),
    )
