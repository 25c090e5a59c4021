"""Energy: an asset's totals by use over its settled epochs, its grid events and the demand-response income
they earned."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from wellhead.chain.enums import GridEventSource
from wellhead.core.energy import carbon_free_wh, per_kwh, split_by_use
from wellhead.gateway import db
from wellhead.gateway.queries.epochs import metered, uint
from wellhead.gateway.schemas.assets import EnergyOut, GridEventOut
from wellhead.gateway.schemas.common import Amount

SOURCES: dict[int, str] = {GridEventSource.OPEN_ADR: "openadr", GridEventSource.MANUAL: "manual"}  # the API's names


def grid_event_out(r: db.GridEventRow, income: tuple[int, int]) -> GridEventOut:
    return GridEventOut(
        event_id=r.event_id,
        asset_id=r.asset_id,
        source=SOURCES.get(r.source, str(r.source)),
        starts_at=r.starts_at,
        ends_at=r.ends_at,
        payload_hash=r.payload_hash,
        signer=r.signer,
        declared_at=r.declared_at,
        energy_income=Amount.of(income[0]),
        holders_income=Amount.of(income[1]),
    )


def income_by_reference(s: Session, asset_id: int, references: list[str] | None) -> dict[str, tuple[int, int]]:
    """Energy income (amount, holders' part) per reference; every reference when `references` is None."""
    q = select(db.EnergyIncome).where(db.EnergyIncome.asset_id == asset_id)
    if references is not None:
        q = q.where(db.EnergyIncome.reference.in_(references))
    out: dict[str, tuple[int, int]] = {}
    for row in s.scalars(q):
        amount, holders = out.get(row.reference, (0, 0))
        out[row.reference] = (amount + row.amount, holders + row.holders_revenue)
    return out


def energy_summary(s: Session, asset: db.Asset) -> EnergyOut:
    """Over the asset's settled epochs that had a report: lease revenue and pool earnings cover the same
    epochs as the energy they are divided by."""
    table = db.Epoch.__table__
    q = select(table).where(table.c.asset_id == asset.id, table.c.reported.is_(True), table.c.settled.is_(True))
    rows = list(s.execute(q))
    ai_wh = mining_wh = ai_revenue = mining_revenue = green = 0
    for e in rows:
        facility, gpu, mining = metered(e)
        split = split_by_use(facility, gpu, mining, 0, 0)
        ai_wh += split.ai_wh
        mining_wh += split.mining_wh
        ai_revenue += uint(e.delivered) or 0
        mining_revenue += uint(e.mining_revenue) or 0
        green += carbon_free_wh(facility, e.renewable_bps or 0)
    certificates = list(s.scalars(select(db.RetiredCertificate).where(db.RetiredCertificate.asset_id == asset.id)))
    income = income_by_reference(s, asset.id, None).values()
    return EnergyOut(
        asset_id=asset.id,
        epochs=len(rows),
        ai_energy_wh=str(ai_wh),
        mining_energy_wh=str(mining_wh),
        ai_revenue=Amount.of(ai_revenue),
        mining_revenue=Amount.of(mining_revenue),
        ai_revenue_per_kwh=Amount.maybe(per_kwh(ai_revenue, ai_wh)),
        mining_revenue_per_kwh=Amount.maybe(per_kwh(mining_revenue, mining_wh)),
        carbon_free_energy_wh=str(green),
        certificates_retired=len(certificates),
        certificate_energy_wh=str(sum(c.energy_wh for c in certificates)),
        energy_income=Amount.of(sum(a for a, _ in income)),
        energy_income_to_holders=Amount.of(sum(h for _, h in income)),
    )
