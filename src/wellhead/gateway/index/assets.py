"""Projections of the registry, NAV feeds and grid ledger: assets, NAV rounds, grid events, energy income and
retired certificates."""

from __future__ import annotations

from wellhead.gateway.db import Asset, EnergyIncome, GridEventRow, NavRound, RetiredCertificate
from wellhead.gateway.index.batch import Batch
from wellhead.gateway.index.decoding import LogEvent


def asset_registered(b: Batch, e: LogEvent) -> None:
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


def asset_status_changed(b: Batch, e: LogEvent) -> None:
    asset = b.get(Asset, (e.args["assetId"],))
    if asset is not None:
        asset.status = e.args["to"]


def nav_oracle_created(b: Batch, e: LogEvent) -> None:
    asset = b.get(Asset, (e.args["assetId"],))
    if asset is not None:
        asset.nav_feed = e.args["feed"]


def nav_updated(b: Batch, e: LogEvent) -> None:
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


def lending_price_updated(b: Batch, e: LogEvent) -> None:
    """The round's lending price and track record: emitted right after its NavUpdated, in the same call."""
    a = e.args
    row = b.get(NavRound, (a["assetId"], a["roundId"]))
    if row is None:
        return  # only if NavUpdated was never indexed, which the contract rules out
    row.lending_price = a["lendingPrice"]
    row.capped_price = a["cappedPrice"]
    row.full_windows = a["fullWindows"]


def grid_event_declared(b: Batch, e: LogEvent) -> None:
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


def energy_income_deposited(b: Batch, e: LogEvent) -> None:
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


def certificate_retired(b: Batch, e: LogEvent) -> None:
    a = e.args
    row = RetiredCertificate(
        certificate_id=a["certificateId"],
        asset_id=a["assetId"],
        epoch=a["epoch"],
        energy_wh=a["energyWh"],
        retired_at=e.timestamp,
    )
    b.add(RetiredCertificate, (row.certificate_id,), row)
