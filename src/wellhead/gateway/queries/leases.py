"""Leases: each lease's share (its GPUs over the asset's) of the energy of its reported epochs, for a whole
page in one query, and the lease as the API shows it."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wellhead.chain.enums import LeaseClass
from wellhead.core.energy import carbon_free_wh, carbon_grams, lease_energy_wh
from wellhead.gateway import db
from wellhead.gateway.queries.epochs import metered
from wellhead.gateway.schemas.common import Amount
from wellhead.gateway.schemas.leases import LeaseOut

CLASS = {c.value: c.name.lower() for c in LeaseClass}


@dataclass(frozen=True)
class LeaseEnergy:
    wh: int = 0
    carbon_free_wh: int = 0
    carbon_grams: int = 0


def lease_energy(s: Session, leases: list[db.Lease]) -> dict[int, LeaseEnergy]:
    """Each lease's share (its GPUs over the asset's) of the AI energy of its reported epochs, with the
    carbon-free part and the emissions: one query for the whole page, each lease reading only its own
    asset's epochs in its own range."""
    if not leases:
        return {}
    assets = {a.id: a for a in s.scalars(select(db.Asset).where(db.Asset.id.in_({x.asset_id for x in leases})))}
    table = db.Epoch.__table__
    q = select(table).where(
        table.c.asset_id.in_(assets),
        table.c.reported.is_(True),
        table.c.epoch >= min(x.start_epoch for x in leases),
        table.c.epoch < max(x.end_epoch for x in leases),
    )
    by_asset: dict[int, list[Any]] = defaultdict(list)
    for row in s.execute(q.order_by(table.c.asset_id, table.c.epoch)):
        by_asset[row.asset_id].append(row)
    out: dict[int, LeaseEnergy] = {}
    for x in leases:
        wh = green = grams = 0
        epochs, asset_gpus = by_asset[x.asset_id], assets[x.asset_id].gpu_count
        first = bisect_left(epochs, x.start_epoch, key=lambda r: r.epoch)
        last = bisect_left(epochs, x.end_epoch, key=lambda r: r.epoch)
        for e in epochs[first:last]:
            used = lease_energy_wh(*metered(e), x.gpus, asset_gpus)
            wh += used
            green += carbon_free_wh(used, e.renewable_bps or 0)
            grams += carbon_grams(used, e.carbon_grams_per_kwh or 0)
        out[x.id] = LeaseEnergy(wh, green, grams)
    return out


def lease_out(x: db.Lease, energy: LeaseEnergy) -> LeaseOut:
    amount = Amount.of
    return LeaseOut(
        id=x.id,
        asset_id=x.asset_id,
        lessee=x.lessee,
        owner=x.owner,
        lease_class=CLASS.get(x.lease_class, str(x.lease_class)),
        gpus=x.gpus,
        start_epoch=x.start_epoch,
        end_epoch=x.end_epoch,
        price_per_gpu_hour=amount(x.price_per_gpu_hour),
        rate_per_epoch=amount(x.rate_per_epoch),
        prepaid=amount(x.prepaid),
        refunded=amount(x.refunded),
        service_credit=amount(x.credited),
        closed_refund=amount(x.closed_refund),
        energy_wh=str(energy.wh),
        carbon_free_energy_wh=str(energy.carbon_free_wh),
        carbon_grams=str(energy.carbon_grams),
    )
