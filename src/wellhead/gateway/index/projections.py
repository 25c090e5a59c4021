"""Read models from events: each function applies one event to the rows it changes.

Events are applied a batch at a time through `Batch`, which keeps every row the batch touches in memory:
the rows a batch will need are loaded up front with one query per table (`prefetch`), rows an event
creates are found again by later events without a flush, and the session writes everything once, at
the end of the batch. (One flush per event made the index ~25 x slower.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session
from web3 import Web3

from wellhead.gateway.db import (
    Asset,
    Base,
    ChainEvent,
    CreditPosition,
    EnergyIncome,
    Epoch,
    GridEventRow,
    Lease,
    NavRound,
    ReportObservation,
    RetiredCertificate,
    ShareBalance,
)

ZERO = "0x" + "00" * 20
REPORT_STATUS = ("none", "pending", "challenged", "upheld", "corrected", "voided")  # MetricsOracle.ReportStatus
ATTESTATION_EVENTS = (
    "ReportChallenged",
    "ChallengeResolved",
    "ChallengeExpired",
    "ObservationFaultProven",
    "EquivocationProven",
)
M = TypeVar("M", bound=Base)
PREFETCH_CHUNK = 400


class Batch:
    def __init__(self, s: Session) -> None:
        self.s = s
        self.rows: dict[tuple[type[Base], tuple[Any, ...]], Base | None] = {}

    def get(self, model: type[M], key: tuple[Any, ...]) -> M | None:
        cached = (model, key)
        if cached not in self.rows:
            with self.s.no_autoflush:
                self.rows[cached] = self.s.get(model, key)
        row = self.rows[cached]
        return row  # type: ignore[return-value]

    def add(self, model: type[M], key: tuple[Any, ...], row: M) -> M:
        self.s.add(row)
        self.rows[(model, key)] = row
        return row

    def prefetch(self, events: Iterable[ChainEvent]) -> None:
        """Loads, in one query per table, the existing rows the events will touch."""
        wanted: dict[type[Base], set[tuple[Any, ...]]] = defaultdict(set)
        for e in events:
            for model, key in _keys(e):
                if (model, key) not in self.rows:
                    wanted[model].add(key)
        for model, keys in wanted.items():
            columns = list(sa_inspect(model).primary_key)
            ordered = sorted(keys)
            for i in range(0, len(ordered), PREFETCH_CHUNK):
                chunk = ordered[i : i + PREFETCH_CHUNK]
                with self.s.no_autoflush:
                    found = self.s.scalars(select(model).where(tuple_(*columns).in_(chunk)))
                    for row in found:
                        self.rows[(model, tuple(getattr(row, str(c.key)) for c in columns))] = row
                for key in chunk:
                    self.rows.setdefault((model, key), None)


def _keys(e: ChainEvent) -> list[tuple[type[Base], tuple[Any, ...]]]:
    a = e.args
    if e.name in ("ReportAccepted", "EpochSettled") or e.name in ATTESTATION_EVENTS:
        keys: list[tuple[type[Base], tuple[Any, ...]]] = [(Epoch, (a["assetId"], a["epoch"]))]
        if e.name == "ObservationFaultProven":
            keys += [(ReportObservation, (a["assetId"], a["epoch"], i)) for i in _bits(a["invalidObservers"])]
        return keys
    if e.contract == "LeaseMarket" and e.name in ("LeaseClosed", "LeaseExtended", "LeaseRefunded"):
        return [(Lease, (a["leaseId"],))]
    if e.contract == "LeaseMarket" and e.name == "Transfer":
        return [(Lease, (a["tokenId"],))]
    if e.contract == "CapacityShares" and e.name == "Transfer":
        return [(ShareBalance, (e.address, h)) for h in (a["from"], a["to"]) if h != ZERO]
    if e.contract == "CreditMarket" and "borrower" in a and "assetId" in a:
        return [(CreditPosition, (a["assetId"], a["borrower"]))]
    return []


def _epoch(b: Batch, asset_id: int, epoch: int) -> Epoch:
    row = b.get(Epoch, (asset_id, epoch))
    if row is None:
        row = b.add(Epoch, (asset_id, epoch), Epoch(asset_id=asset_id, epoch=epoch, reported=False, settled=False))
    return row


def asset_registered(b: Batch, e: ChainEvent) -> None:
    a = e.args
    asset = Asset(
        id=a["assetId"],
        operator=a["operator"],
        shares=a["shares"],
        site_id=a["siteId"],
        gpu_class=a["gpuClass"],
        gpu_count=a["gpuCount"],
        max_watts_per_gpu=a["maxWattsPerGpu"],
        epoch_length=a["epochLength"],
        genesis=a["genesis"],
        status=1,
        registered_block=e.block_number,
    )
    b.add(Asset, (asset.id,), asset)


def asset_status_changed(b: Batch, e: ChainEvent) -> None:
    asset = b.get(Asset, (e.args["assetId"],))
    if asset is not None:
        asset.status = e.args["to"]


def nav_oracle_created(b: Batch, e: ChainEvent) -> None:
    asset = b.get(Asset, (e.args["assetId"],))
    if asset is not None:
        asset.nav_feed = e.args["feed"]


def _bits(bitmap: int) -> list[int]:
    """The 1-based attestor indexes of a bitmap (bit i: index i + 1)."""
    return [i + 1 for i in range(32) if bitmap >> i & 1]


def _attestor(b: Batch, asset_id: int, index: int) -> str:
    asset = b.get(Asset, (asset_id,))
    addresses: list[str] = (asset.attestors or {}).get("addresses", []) if asset is not None else []
    return addresses[index - 1] if 0 < index <= len(addresses) else ZERO


def attestors_set(b: Batch, e: ChainEvent) -> None:
    asset = b.get(Asset, (e.args["assetId"],))
    if asset is not None:
        asset.attestors = {"addresses": list(e.args["attestors"])}
        asset.fault_tolerance = e.args["faultTolerance"]


def report_accepted(b: Batch, e: ChainEvent) -> None:
    """The medians settlement uses come with the event; every field's median and each attestor's observation
    were added by the indexer from the submitting transaction."""
    a = e.args
    asset_id, epoch = a["assetId"], a["epoch"]
    row = _epoch(b, asset_id, epoch)
    row.reported = True
    row.uptime_bps = a["uptimeBps"]
    row.curtailed_bps = a["curtailedBps"]
    median = a.get("aggregate")
    if median:
        row.gpu_energy_wh = median["gpuEnergyWh"]
        row.facility_energy_wh = median["facilityEnergyWh"]
        row.mining_energy_wh = median["miningEnergyWh"]
        row.mining_revenue = median["miningRevenue"]
        row.renewable_bps = median["renewableBps"]
        row.carbon_grams_per_kwh = median["carbonGramsPerKwh"]
        row.evidence_hash = median["evidenceHash"]
    cosigners = _bits(a["cosigners"])
    row.signers = {"addresses": [_attestor(b, asset_id, i) for i in cosigners]}
    row.report_status = "pending"
    row.attestation = {
        "digest": a["digest"],
        "grid_event_id": a["gridEventId"],
        "observers": _bits(a["observers"]),
        "cosigners": cosigners,
    }
    for o in a.get("observations") or []:
        key = (asset_id, epoch, o["observer"])
        b.add(
            ReportObservation,
            key,
            ReportObservation(
                asset_id=asset_id,
                epoch=epoch,
                observer=o["observer"],
                attestor=_attestor(b, asset_id, o["observer"]),
                uptime_bps=o["uptimeBps"],
                curtailed_bps=o["curtailedBps"],
                gpu_energy_wh=o["gpuEnergyWh"],
                facility_energy_wh=o["facilityEnergyWh"],
                mining_energy_wh=o["miningEnergyWh"],
                mining_revenue=o["miningRevenue"],
                renewable_bps=o["renewableBps"],
                carbon_grams_per_kwh=o["carbonGramsPerKwh"],
                evidence_hash=o["evidenceHash"],
                valid=True,
            ),
        )


def _annotate(row: Epoch, **fields: Any) -> None:
    """Adds to the epoch's attestation record (a new dict: the JSON column sees the change)."""
    row.attestation = {**(row.attestation or {}), **fields}


def report_challenged(b: Batch, e: ChainEvent) -> None:
    a = e.args
    row = _epoch(b, a["assetId"], a["epoch"])
    row.report_status = "challenged"
    _annotate(row, challenge={"challenger": a["challenger"], "bond": str(a["bond"])})


def challenge_resolved(b: Batch, e: ChainEvent) -> None:
    a = e.args
    row = _epoch(b, a["assetId"], a["epoch"])
    row.report_status = REPORT_STATUS[a["status"]]
    row.uptime_bps, row.curtailed_bps = a["uptimeBps"], a["curtailedBps"]
    _annotate(
        row,
        verdict={
            "status": REPORT_STATUS[a["status"]],
            "faulty_attestors": [_attestor(b, a["assetId"], i) for i in _bits(a["faultyAttestors"])],
            "operator_slashed": str(a["operatorSlashed"]),
            "attestors_slashed": str(a["attestorsSlashed"]),
            "challenger_paid": str(a["challengerPaid"]),
        },
    )


def challenge_expired(b: Batch, e: ChainEvent) -> None:
    """The arbiter did not rule by the dispute deadline: the report stands and the challenger's bond is back."""
    a = e.args
    row = _epoch(b, a["assetId"], a["epoch"])
    row.report_status = "upheld"
    _annotate(row, verdict={"status": "upheld", "expired": True, "challenger_refunded": str(a["bond"])})


def observation_fault_proven(b: Batch, e: ChainEvent) -> None:
    """A forged observation voids the whole report: nothing in it proves delivery (no proof, no pay)."""
    a = e.args
    row = _epoch(b, a["assetId"], a["epoch"])
    row.report_status = "voided"
    row.uptime_bps, row.curtailed_bps = 0, 0
    invalid = _bits(a["invalidObservers"])
    for i in invalid:
        observation = b.get(ReportObservation, (a["assetId"], a["epoch"], i))
        if observation is not None:
            observation.valid = False
    _annotate(
        row,
        fault_proof={
            "prover": a["prover"],
            "invalid_observers": invalid,
            "slashed": str(a["slashed"]),
            "reward": str(a["reward"]),
        },
    )


def equivocation_proven(b: Batch, e: ChainEvent) -> None:
    a = e.args
    row = _epoch(b, a["assetId"], a["epoch"])
    proofs = [
        *(row.attestation or {}).get("equivocations", []),
        {"attestor": a["attestor"], "slashed": str(a["slashed"])},
    ]
    _annotate(row, equivocations=proofs)


def epoch_settled(b: Batch, e: ChainEvent) -> None:
    a = e.args
    row = _epoch(b, a["assetId"], a["epoch"])
    row.settled = True
    row.proven = a["proven"]
    row.uptime_bps = a["uptimeBps"]
    row.curtailed_bps = a["curtailedBps"]
    row.delivered = a["delivered"]
    row.protocol_fee = a["protocolFee"]
    row.operator_fee = a["operatorFee"]
    row.holders_revenue = a["holdersRevenue"]
    row.service_credit = a["serviceCredit"]
    row.settled_at = e.timestamp


def lease_opened(b: Batch, e: ChainEvent) -> None:
    a = e.args
    lease = Lease(
        id=a["leaseId"],
        asset_id=a["assetId"],
        lessee=a["lessee"],
        owner=a["lessee"],
        lease_class=a["class"],
        gpus=a["gpus"],
        start_epoch=a["startEpoch"],
        end_epoch=a["endEpoch"],
        price_per_gpu_hour=a["pricePerGpuHour"],
        rate_per_epoch=a["ratePerEpoch"],
        prepaid=a["prepaid"],
        closed_refund=0,
        refunded=0,
        credited=0,
        opened_at=e.timestamp,
    )
    b.add(Lease, (lease.id,), lease)


def lease_closed(b: Batch, e: ChainEvent) -> None:
    lease = b.get(Lease, (e.args["leaseId"],))
    if lease is not None:
        lease.end_epoch = e.args["newEndEpoch"]
        lease.closed_refund += e.args["refunded"]


def lease_extended(b: Batch, e: ChainEvent) -> None:
    lease = b.get(Lease, (e.args["leaseId"],))
    if lease is not None:
        lease.end_epoch = e.args["newEndEpoch"]
        lease.prepaid += e.args["paid"]


def lease_refunded(b: Batch, e: ChainEvent) -> None:
    lease = b.get(Lease, (e.args["leaseId"],))
    if lease is not None:
        lease.refunded += e.args["refund"]
        lease.credited += e.args["serviceCredit"]


def lease_transferred(b: Batch, e: ChainEvent) -> None:
    if e.args["from"] == ZERO:
        return  # the mint: LeaseOpened recorded the owner
    lease = b.get(Lease, (e.args["tokenId"],))
    if lease is not None:
        lease.owner = Web3.to_checksum_address(e.args["to"])


def nav_updated(b: Batch, e: ChainEvent) -> None:
    a = e.args
    row = NavRound(
        asset_id=a["assetId"],
        round_id=a["roundId"],
        epoch=a["epoch"],
        price_per_share=a["pricePerShare"],
        annual_revenue_per_share=a["annualRevenuePerShare"],
        uptime_bps=a["uptimeBps"],
        remaining_life_seconds=a["remainingLifeSeconds"],
        recorded_at=e.timestamp,
    )
    b.add(NavRound, (row.asset_id, row.round_id), row)  # a round is recorded once


def lending_price_updated(b: Batch, e: ChainEvent) -> None:
    """The round's lending price and track record: emitted right after its NavUpdated, in the same call."""
    a = e.args
    row = b.get(NavRound, (a["assetId"], a["roundId"]))
    if row is None:
        return  # only if NavUpdated was never indexed, which the contract rules out
    row.lending_price = a["lendingPrice"]
    row.capped_price = a["cappedPrice"]
    row.full_windows = a["fullWindows"]


def _balance(b: Batch, token: str, holder: str) -> ShareBalance:
    row = b.get(ShareBalance, (token, holder))
    if row is None:
        row = b.add(ShareBalance, (token, holder), ShareBalance(token=token, holder=holder, balance=0))
    return row


def shares_transferred(b: Batch, e: ChainEvent) -> None:
    value = e.args["value"]
    if e.args["from"] != ZERO:
        _balance(b, e.address, e.args["from"]).balance -= value
    if e.args["to"] != ZERO:
        _balance(b, e.address, e.args["to"]).balance += value


def _position(b: Batch, e: ChainEvent) -> CreditPosition:
    key = (e.args["assetId"], e.args["borrower"])
    row = b.get(CreditPosition, key)
    if row is None:
        row = CreditPosition(
            asset_id=key[0], borrower=key[1], collateral=0, borrowed=0, repaid=0, revenue_applied=0, liquidations=0
        )
        b.add(CreditPosition, key, row)
    return row


def collateral_deposited(b: Batch, e: ChainEvent) -> None:
    _position(b, e).collateral += e.args["shares"]


def collateral_withdrawn(b: Batch, e: ChainEvent) -> None:
    _position(b, e).collateral -= e.args["shares"]


def borrowed(b: Batch, e: ChainEvent) -> None:
    _position(b, e).borrowed += e.args["amount"]


def repaid(b: Batch, e: ChainEvent) -> None:
    _position(b, e).repaid += e.args["amount"]


def revenue_applied(b: Batch, e: ChainEvent) -> None:
    _position(b, e).revenue_applied += e.args["repaid"]


def liquidated(b: Batch, e: ChainEvent) -> None:
    row = _position(b, e)
    row.collateral -= e.args["seized"]
    row.liquidations += 1


def grid_event_declared(b: Batch, e: ChainEvent) -> None:
    a = e.args
    row = GridEventRow(
        event_id=a["declarationId"],
        program_event_id=a["eventId"],
        asset_id=a["assetId"],
        source=a["source"],
        starts_at=a["startsAt"],
        ends_at=a["endsAt"],
        payload_hash=a["payloadHash"],
        signer=a["signer"],
        declared_at=e.timestamp,
    )
    b.add(GridEventRow, (row.event_id,), row)


def energy_income_deposited(b: Batch, e: ChainEvent) -> None:
    a = e.args
    row = EnergyIncome(
        tx_hash=e.tx_hash,
        log_index=e.log_index,
        asset_id=a["assetId"],
        reference=a["reference_"],
        depositor=a["from"],
        amount=a["amount"],
        protocol_fee=a["protocolFee"],
        operator_fee=a["operatorFee"],
        holders_revenue=a["holdersRevenue"],
        deposited_at=e.timestamp,
    )
    b.add(EnergyIncome, (row.tx_hash, row.log_index), row)


def certificate_retired(b: Batch, e: ChainEvent) -> None:
    a = e.args
    row = RetiredCertificate(
        certificate_id=a["certificateId"],
        asset_id=a["assetId"],
        epoch=a["epoch"],
        energy_wh=a["energyWh"],
        retired_at=e.timestamp,
    )
    b.add(RetiredCertificate, (row.certificate_id,), row)


HANDLERS: dict[tuple[str, str], Callable[[Batch, ChainEvent], None]] = {
    ("CapacityRegistry", "AssetRegistered"): asset_registered,
    ("CapacityRegistry", "AssetStatusChanged"): asset_status_changed,
    ("CapacityRegistry", "AttestorsSet"): attestors_set,
    ("NavOracleFactory", "NavOracleCreated"): nav_oracle_created,
    ("MetricsOracle", "ReportAccepted"): report_accepted,
    ("MetricsOracle", "ReportChallenged"): report_challenged,
    ("MetricsOracle", "ChallengeResolved"): challenge_resolved,
    ("MetricsOracle", "ChallengeExpired"): challenge_expired,
    ("MetricsOracle", "ObservationFaultProven"): observation_fault_proven,
    ("MetricsOracle", "EquivocationProven"): equivocation_proven,
    ("LeaseMarket", "EpochSettled"): epoch_settled,
    ("LeaseMarket", "LeaseOpened"): lease_opened,
    ("LeaseMarket", "LeaseClosed"): lease_closed,
    ("LeaseMarket", "LeaseExtended"): lease_extended,
    ("LeaseMarket", "LeaseRefunded"): lease_refunded,
    ("LeaseMarket", "Transfer"): lease_transferred,
    ("NavOracle", "NavUpdated"): nav_updated,
    ("NavOracle", "LendingPriceUpdated"): lending_price_updated,
    ("CapacityShares", "Transfer"): shares_transferred,
    ("CreditMarket", "CollateralDeposited"): collateral_deposited,
    ("CreditMarket", "CollateralWithdrawn"): collateral_withdrawn,
    ("CreditMarket", "Borrowed"): borrowed,
    ("CreditMarket", "Repaid"): repaid,
    ("CreditMarket", "RevenueApplied"): revenue_applied,
    ("CreditMarket", "Liquidated"): liquidated,
    ("GridLedger", "GridEventDeclared"): grid_event_declared,
    ("LeaseMarket", "EnergyIncomeDeposited"): energy_income_deposited,
    ("GridLedger", "CertificateRetired"): certificate_retired,
}


def apply_events(s: Session, events: list[ChainEvent]) -> None:
    """Applies `events` (in chain order) to the read models; the caller's transaction writes them."""
    batch = Batch(s)
    batch.prefetch(events)
    for event in events:
        handler = HANDLERS.get((event.contract, event.name))
        if handler is not None:
            handler(batch, event)
