"""Assets: one page of them with what changes per page (leased GPUs now, the latest NAV price) in two grouped
queries; the asset's NAV rounds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wellhead.chain.enums import AssetStatus
from wellhead.gateway import db
from wellhead.gateway.index.indexer import INDEXED_TIME
from wellhead.gateway.problems import Problem
from wellhead.gateway.schemas.assets import AssetOut, NavRoundOut
from wellhead.gateway.schemas.common import Amount

STATUS = {s.value: s.name.lower() for s in AssetStatus}


def require_asset(s: Session, asset_id: int) -> db.Asset:
    asset = s.get(db.Asset, asset_id) if 0 < asset_id < 2**63 else None
    if asset is None:
        raise Problem(404, "asset_not_found", f"no asset {asset_id}", "asset_id")
    return asset


def hex32(value: str) -> str:
    raw = bytes.fromhex(value.removeprefix("0x")).rstrip(b"\0")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return value


@dataclass
class AssetFacts:
    now: int
    leased: dict[int, int]
    price: dict[int, int]


def asset_facts(s: Session, ids: list[int]) -> AssetFacts:
    """Leased GPUs now and the latest NAV price of each asset in `ids`: two grouped queries for a page."""
    state = s.get(db.IndexerState, INDEXED_TIME)
    now = state.value if state is not None else 0
    if not ids:
        return AssetFacts(now, {}, {})
    assets = {a.id: a for a in s.scalars(select(db.Asset).where(db.Asset.id.in_(ids)))}
    leased: dict[int, int] = {}
    for lease in s.scalars(
        select(db.Lease).where(db.Lease.asset_id.in_(ids), db.Lease.end_epoch > db.Lease.start_epoch)
    ):
        a = assets[lease.asset_id]
        current = (now - a.genesis) // a.epoch_length if now >= a.genesis else -1
        if lease.start_epoch <= current < lease.end_epoch:
            leased[lease.asset_id] = leased.get(lease.asset_id, 0) + lease.gpus
    newest = (
        select(db.NavRound.asset_id, func.max(db.NavRound.round_id).label("round_id"))
        .where(db.NavRound.asset_id.in_(ids))
        .group_by(db.NavRound.asset_id)
        .subquery()
    )
    rounds = s.scalars(
        select(db.NavRound).join(
            newest, (db.NavRound.asset_id == newest.c.asset_id) & (db.NavRound.round_id == newest.c.round_id)
        )
    )
    return AssetFacts(now, leased, {r.asset_id: r.price_per_share for r in rounds})


def asset_out(a: db.Asset, facts: AssetFacts) -> AssetOut:
    leased = facts.leased.get(a.id, 0)
    return AssetOut(
        leased_gpus=leased,
        utilization_bps=leased * 10_000 // a.gpu_count if a.gpu_count else 0,
        price_per_share=Amount.maybe(facts.price.get(a.id)),
        id=a.id,
        operator=a.operator,
        shares=a.shares,
        site_id=hex32(a.site_id),
        gpu_class=hex32(a.gpu_class),
        gpu_count=a.gpu_count,
        max_watts_per_gpu=a.max_watts_per_gpu,
        epoch_length=a.epoch_length,
        genesis=a.genesis,
        status=STATUS.get(a.status, str(a.status)),
        nav_feed=a.nav_feed,
    )


def nav_out(r: db.NavRound) -> NavRoundOut:
    price, annual = Amount.of(r.price_per_share), Amount.of(r.annual_revenue_per_share)
    return NavRoundOut(
        asset_id=r.asset_id,
        round_id=r.round_id,
        epoch=r.epoch,
        price_per_share=price,
        annual_revenue_per_share=annual,
        uptime_bps=r.uptime_bps,
        remaining_life_seconds=r.remaining_life_seconds,
        recorded_at=r.recorded_at,
        lending_price=Amount.maybe(r.lending_price),
        full_windows=r.full_windows,
    )
