"""Projections of the oracle and settlement: each epoch's report, its observations and disputes, its settlement."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from wellhead.chain.enums import ReportStatus
from wellhead.gateway.db import Asset, Epoch, IndexerState, ReportObservation
from wellhead.gateway.index.batch import ZERO, Batch, bits, epoch_row
from wellhead.gateway.index.decoding import LogEvent
from wellhead.gateway.index.versions import ROLLBACKS


def _attestor(b: Batch, asset_id: int, index: int) -> str:
    asset = b.get(Asset, (asset_id,))
    addresses: list[str] = (asset.attestors or {}).get("addresses", []) if asset is not None else []
    return addresses[index - 1] if 0 < index <= len(addresses) else ZERO


def attestors_set(b: Batch, e: LogEvent) -> None:
    asset = b.get(Asset, (e.args["assetId"],))
    if asset is not None:
        asset.attestors = {"addresses": list(e.args["attestors"])}
        asset.fault_tolerance = e.args["faultTolerance"]


def report_accepted(b: Batch, e: LogEvent) -> None:
    """The medians settlement uses come with the event; every field's median and each attestor's observation
    were added by the indexer from the submitting transaction."""
    a = e.args
    asset_id, epoch = a["assetId"], a["epoch"]
    row = epoch_row(b, asset_id, epoch)
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
    cosigners = bits(a["cosigners"])
    row.signers = {"addresses": [_attestor(b, asset_id, i) for i in cosigners]}
    row.report_status = "pending"
    row.attestation = {
        "digest": a["digest"],
        "grid_event_id": a["gridEventId"],
        "observers": bits(a["observers"]),
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


def report_challenged(b: Batch, e: LogEvent) -> None:
    a = e.args
    row = epoch_row(b, a["assetId"], a["epoch"])
    row.report_status = "challenged"
    _annotate(row, challenge={"challenger": a["challenger"], "bond": str(a["bond"])})


def challenge_resolved(b: Batch, e: LogEvent) -> None:
    a = e.args
    row = epoch_row(b, a["assetId"], a["epoch"])
    row.report_status = ReportStatus(a["status"]).name.lower()
    row.uptime_bps, row.curtailed_bps = a["uptimeBps"], a["curtailedBps"]
    _annotate(
        row,
        verdict={
            "status": ReportStatus(a["status"]).name.lower(),
            "faulty_attestors": [_attestor(b, a["assetId"], i) for i in bits(a["faultyAttestors"])],
            "operator_slashed": str(a["operatorSlashed"]),
            "attestors_slashed": str(a["attestorsSlashed"]),
            "challenger_paid": str(a["challengerPaid"]),
        },
    )


def challenge_expired(b: Batch, e: LogEvent) -> None:
    """The arbiter did not rule by the dispute deadline: the report stands and the challenger's bond is back."""
    a = e.args
    row = epoch_row(b, a["assetId"], a["epoch"])
    row.report_status = "upheld"
    _annotate(row, verdict={"status": "upheld", "expired": True, "challenger_refunded": str(a["bond"])})


def observation_fault_proven(b: Batch, e: LogEvent) -> None:
    """A forged observation voids the whole report: nothing in it proves delivery (no proof, no pay)."""
    a = e.args
    row = epoch_row(b, a["assetId"], a["epoch"])
    row.report_status = "voided"
    row.uptime_bps, row.curtailed_bps = 0, 0
    invalid = bits(a["invalidObservers"])
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


def equivocation_proven(b: Batch, e: LogEvent) -> None:
    a = e.args
    row = epoch_row(b, a["assetId"], a["epoch"])
    proofs = [
        *(row.attestation or {}).get("equivocations", []),
        {"attestor": a["attestor"], "slashed": str(a["slashed"])},
    ]
    _annotate(row, equivocations=proofs)
    if row.settled:  # a proof has no deadline: settled history changed, and its caches must learn it
        revise_history(b.s)


def revise_history(s: Session) -> None:
    """Moves the revision of settled history (the `rollbacks` count, which reorgs move too): the API replicas'
    rendered settled epochs are keyed by it, so none of them is served again."""
    state = s.get(IndexerState, ROLLBACKS)
    if state is None:
        s.add(IndexerState(key=ROLLBACKS, value=1))
    else:
        state.value += 1


def epoch_settled(b: Batch, e: LogEvent) -> None:
    a = e.args
    row = epoch_row(b, a["assetId"], a["epoch"])
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
