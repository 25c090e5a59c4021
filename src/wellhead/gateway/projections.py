"""Read models from events: each function applies one event to the tables it changes."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from web3 import Web3

from wellhead.gateway.db import Asset, ChainEvent, CreditPosition, Epoch, Lease, NavRound, ShareBalance

ZERO = "0x" + "00" * 20


def _epoch(s: Session, asset_id: int, epoch: int) -> Epoch:
    row = s.get(Epoch, (asset_id, epoch))
    if row is None:
        row = Epoch(asset_id=asset_id, epoch=epoch, reported=False, settled=False)
        s.add(row)
    return row


def asset_registered(s: Session, e: ChainEvent) -> None:
    a = e.args
    s.add(
        Asset(
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
    )


def asset_status_changed(s: Session, e: ChainEvent) -> None:
    asset = s.get(Asset, e.args["assetId"])
    if asset is not None:
        asset.status = e.args["to"]


def nav_oracle_created(s: Session, e: ChainEvent) -> None:
    asset = s.get(Asset, e.args["assetId"])
    if asset is not None:
        asset.nav_feed = e.args["feed"]


def report_accepted(s: Session, e: ChainEvent) -> None:
    r = e.args["report"]
    row = _epoch(s, e.args["assetId"], e.args["epoch"])
    row.reported = True
    row.uptime_bps = r["uptimeBps"]
    row.curtailed_bps = r["curtailedBps"]
    row.gpu_energy_wh = r["gpuEnergyWh"]
    row.facility_energy_wh = r["facilityEnergyWh"]
    row.renewable_bps = r["renewableBps"]
    row.carbon_grams_per_kwh = r["carbonGramsPerKwh"]
    row.evidence_hash = r["evidenceHash"]
    row.signers = {"addresses": e.args["signers"]}


def epoch_settled(s: Session, e: ChainEvent) -> None:
    a = e.args
    row = _epoch(s, a["assetId"], a["epoch"])
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


def lease_opened(s: Session, e: ChainEvent) -> None:
    a = e.args
    s.add(
        Lease(
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
    )


def lease_closed(s: Session, e: ChainEvent) -> None:
    lease = s.get(Lease, e.args["leaseId"])
    if lease is not None:
        lease.end_epoch = e.args["newEndEpoch"]
        lease.closed_refund += e.args["refunded"]


def lease_extended(s: Session, e: ChainEvent) -> None:
    lease = s.get(Lease, e.args["leaseId"])
    if lease is not None:
        lease.end_epoch = e.args["newEndEpoch"]
        lease.prepaid += e.args["paid"]


def lease_refunded(s: Session, e: ChainEvent) -> None:
    lease = s.get(Lease, e.args["leaseId"])
    if lease is not None:
        lease.refunded += e.args["refund"]
        lease.credited += e.args["serviceCredit"]


def lease_transferred(s: Session, e: ChainEvent) -> None:
    if e.args["from"] == ZERO:
        return  # the mint: LeaseOpened recorded the owner
    lease = s.get(Lease, e.args["tokenId"])
    if lease is not None:
        lease.owner = Web3.to_checksum_address(e.args["to"])


def nav_updated(s: Session, e: ChainEvent) -> None:
    a = e.args
    s.merge(
        NavRound(
            asset_id=a["assetId"],
            round_id=a["roundId"],
            epoch=a["epoch"],
            price_per_share=a["pricePerShare"],
            annual_revenue_per_share=a["annualRevenuePerShare"],
            uptime_bps=a["uptimeBps"],
            remaining_life_seconds=a["remainingLifeSeconds"],
            recorded_at=e.timestamp,
        )
    )


def _balance(s: Session, token: str, holder: str) -> ShareBalance:
    row = s.get(ShareBalance, (token, holder))
    if row is None:
        row = ShareBalance(token=token, holder=holder, balance=0)
        s.add(row)
    return row


def shares_transferred(s: Session, e: ChainEvent) -> None:
    value = e.args["value"]
    if e.args["from"] != ZERO:
        _balance(s, e.address, e.args["from"]).balance -= value
    if e.args["to"] != ZERO:
        _balance(s, e.address, e.args["to"]).balance += value


def _position(s: Session, e: ChainEvent) -> CreditPosition:
    key = (e.args["assetId"], e.args["borrower"])
    row = s.get(CreditPosition, key)
    if row is None:
        row = CreditPosition(
            asset_id=key[0], borrower=key[1], collateral=0, borrowed=0, repaid=0, revenue_applied=0, liquidations=0
        )
        s.add(row)
    return row


def collateral_deposited(s: Session, e: ChainEvent) -> None:
    _position(s, e).collateral += e.args["shares"]


def collateral_withdrawn(s: Session, e: ChainEvent) -> None:
    _position(s, e).collateral -= e.args["shares"]


def borrowed(s: Session, e: ChainEvent) -> None:
    _position(s, e).borrowed += e.args["amount"]


def repaid(s: Session, e: ChainEvent) -> None:
    _position(s, e).repaid += e.args["amount"]


def revenue_applied(s: Session, e: ChainEvent) -> None:
    _position(s, e).revenue_applied += e.args["repaid"]


def liquidated(s: Session, e: ChainEvent) -> None:
    row = _position(s, e)
    row.collateral -= e.args["seized"]
    row.liquidations += 1


HANDLERS: dict[tuple[str, str], Callable[[Session, ChainEvent], None]] = {
    ("CapacityRegistry", "AssetRegistered"): asset_registered,
    ("CapacityRegistry", "AssetStatusChanged"): asset_status_changed,
    ("NavOracleFactory", "NavOracleCreated"): nav_oracle_created,
    ("MetricsOracle", "ReportAccepted"): report_accepted,
    ("LeaseMarket", "EpochSettled"): epoch_settled,
    ("LeaseMarket", "LeaseOpened"): lease_opened,
    ("LeaseMarket", "LeaseClosed"): lease_closed,
    ("LeaseMarket", "LeaseExtended"): lease_extended,
    ("LeaseMarket", "LeaseRefunded"): lease_refunded,
    ("LeaseMarket", "Transfer"): lease_transferred,
    ("NavOracle", "NavUpdated"): nav_updated,
    ("CapacityShares", "Transfer"): shares_transferred,
    ("CreditMarket", "CollateralDeposited"): collateral_deposited,
    ("CreditMarket", "CollateralWithdrawn"): collateral_withdrawn,
    ("CreditMarket", "Borrowed"): borrowed,
    ("CreditMarket", "Repaid"): repaid,
    ("CreditMarket", "RevenueApplied"): revenue_applied,
    ("CreditMarket", "Liquidated"): liquidated,
}


def apply_event(s: Session, event: ChainEvent) -> None:
    handler = HANDLERS.get((event.contract, event.name))
    if handler is not None:
        handler(s, event)  # the session autoflushes before the next event's lookups
