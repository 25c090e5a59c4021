"""Assets: the list, one asset with its live quote, its epoch history, NAV rounds, grid events and energy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from wellhead.gateway import db
from wellhead.gateway.api.paging import Cursor, Limit, decode_cursor, json_response, paginate
from wellhead.gateway.deps import S, Svc
from wellhead.gateway.queries.assets import asset_facts, asset_out, nav_out, require_asset
from wellhead.gateway.queries.energy import energy_summary, grid_event_out, income_by_reference
from wellhead.gateway.queries.epoch_pages import from_index, from_memory
from wellhead.gateway.queries.history import PageRequest
from wellhead.gateway.schemas.assets import AssetDetailOut, AssetOut, EnergyOut, EpochOut, GridEventOut, NavRoundOut
from wellhead.gateway.schemas.common import INT64_MAX, Amount, Page

router = APIRouter(prefix="/assets", tags=["assets"])


@router.get("", operation_id="listAssets", response_model=Page[AssetOut])
async def list_assets(request: Request, s: S, svc: Svc, limit: Limit = 50, cursor: Cursor = None) -> Response:
    """Served from this replica's memory at the pushed index version on the event loop; rendered on a worker
    thread once per version."""
    cached = svc.responses.from_memory(request)
    if cached is not None:
        return cached

    def render() -> Response:
        def present(rows: list[db.Asset]) -> list[AssetOut]:
            facts = asset_facts(s, [r.id for r in rows])
            return [asset_out(a, facts) for a in rows]

        return paginate(s, select(db.Asset), db.Asset.id, limit, cursor, present)

    return await run_in_threadpool(svc.responses.answer, request, s, render)


@router.get("/{asset_id}", operation_id="getAsset", response_model=AssetDetailOut)
def get_asset(s: S, svc: Svc, asset_id: int) -> Response:
    asset = require_asset(s, asset_id)
    summary = asset_out(asset, asset_facts(s, [asset_id]))
    market = svc.writes.market
    firm = interruptible = available = None
    if asset.status == 1:
        available = int(market.functions.availableGpus(asset_id).call())
        if available > 0:
            firm = Amount.of(int(market.functions.quote(asset_id, 1, 0).call()))
            interruptible = Amount.of(int(market.functions.quote(asset_id, 1, 1).call()))
    return json_response(
        AssetDetailOut(
            **summary.model_dump(),
            quote_firm_per_gpu_hour=firm,
            quote_interruptible_per_gpu_hour=interruptible,
            available_gpus=available,
        )
    )


@router.get("/{asset_id}/epochs", operation_id="listAssetEpochs", response_model=Page[EpochOut])
async def list_epochs(
    request: Request,
    s: S,
    svc: Svc,
    asset_id: int,
    limit: Limit = 100,
    cursor: Cursor = None,
    from_: Annotated[
        int | None, Query(alias="from", ge=0, le=INT64_MAX, description="epochs ending at or after")
    ] = None,
    to: Annotated[int | None, Query(ge=0, le=INT64_MAX, description="epochs starting before")] = None,
) -> Response:
    """Paged by hand, not with `paginate`: the page is assembled from cached JSON fragments, not models, and
    inside settled history it is served from memory on the event loop (`queries/epoch_pages.py`)."""
    after = decode_cursor(cursor, 1)
    page = PageRequest(after[0] if after else None, from_, to, limit)
    served = from_memory(request, svc, asset_id, page)
    if served is not None:
        return served
    return await run_in_threadpool(from_index, request, s, svc, asset_id, page)


@router.get("/{asset_id}/nav", operation_id="listNavRounds", response_model=Page[NavRoundOut])
def list_nav(s: S, asset_id: int, limit: Limit = 100, cursor: Cursor = None) -> Response:
    require_asset(s, asset_id)
    q = select(db.NavRound).where(db.NavRound.asset_id == asset_id)
    return paginate(s, q, db.NavRound.round_id, limit, cursor, lambda rows: [nav_out(r) for r in rows])


@router.get("/{asset_id}/grid-events", operation_id="listGridEvents", response_model=Page[GridEventOut])
def list_grid_events(s: S, asset_id: int, limit: Limit = 100, cursor: Cursor = None) -> Response:
    require_asset(s, asset_id)

    def present(rows: list[db.GridEventRow]) -> list[GridEventOut]:
        income = income_by_reference(s, asset_id, [r.event_id for r in rows])
        return [grid_event_out(r, income.get(r.event_id, (0, 0))) for r in rows]

    q = select(db.GridEventRow).where(db.GridEventRow.asset_id == asset_id)
    return paginate(s, q, db.GridEventRow.starts_at, limit, cursor, present)


@router.get("/{asset_id}/energy", operation_id="getAssetEnergy", response_model=EnergyOut)
def get_energy(s: S, asset_id: int) -> Response:
    return json_response(energy_summary(s, require_asset(s, asset_id)))
