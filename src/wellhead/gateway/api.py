"""The gateway's REST API (read side): assets, their epoch history, leases and NAV rounds from the index.

Every list is cursor-paginated (`cursor` from the previous page's `next_cursor`, `limit` up to 500) and
time-filtered where it has a time (`from`/`to`, unix seconds). Amounts are strings of base units plus a
decimal rendering. Every error is an RFC 9457 problem (`application/problem+json`) with a stable `code`.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_left
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from web3 import Web3

from wellhead.core.energy import (
    carbon_free_wh,
    carbon_grams,
    lease_energy_wh,
    per_kwh,
    split_by_use,
    wh_per_delivered_gpu_hour,
)
from wellhead.core.units import stablecoin_decimals
from wellhead.gateway import db
from wellhead.gateway.cache import index_version
from wellhead.gateway.indexer import INDEXED_TIME
from wellhead.gateway.paging import Cursor, Limit, Page, decode_cursor, encode_cursor, json_response, page
from wellhead.gateway.problems import PROBLEM, Problem, ProblemBody, problem_response
from wellhead.gateway.services import S, Services, Svc
from wellhead.gateway.writes import Amount

log = logging.getLogger("wellhead.gateway")


class AssetOut(BaseModel):
    id: int
    operator: str
    shares: str
    site_id: str
    gpu_class: str
    gpu_count: int
    max_watts_per_gpu: int
    epoch_length: int
    genesis: int
    status: str
    nav_feed: str | None
    leased_gpus: int = Field(description="GPUs under leases in the epoch of the newest indexed block")
    utilization_bps: int
    price_per_share: Amount | None = Field(description="the latest NAV round's price per share")


class AssetDetailOut(AssetOut):
    quote_firm_per_gpu_hour: Amount | None = Field(description="live: the curve price of one more firm GPU")
    quote_interruptible_per_gpu_hour: Amount | None
    available_gpus: int | None = Field(description="live: GPUs not committed to any lease")


class ObservationOut(BaseModel):
    """One attestor's signed observation in the epoch's accepted report."""

    observer: int = Field(description="the attestor's 1-based index in the asset's set")
    attestor: str
    uptime_bps: int
    curtailed_bps: int
    gpu_energy_wh: str
    facility_energy_wh: str
    mining_energy_wh: str
    mining_revenue: Amount
    renewable_bps: int
    carbon_grams_per_kwh: int
    evidence_hash: str = Field(description="its raw evidence: GET /api/v1/evidence/{hash}")
    valid: bool = Field(description="false once an on-chain proof showed its signature forged")


class EpochOut(BaseModel):
    asset_id: int
    epoch: int
    starts_at: int
    ends_at: int
    reported: bool
    settled: bool
    proven: bool | None
    uptime_bps: int | None
    curtailed_bps: int | None
    gpu_energy_wh: str | None
    facility_energy_wh: str | None
    renewable_bps: int | None
    carbon_grams_per_kwh: int | None
    evidence_hash: str | None = Field(description="the evidence of the observation whose uptime is the median")
    signers: list[str] = Field(description="the attestors who co-signed the accepted report")
    report_status: str | None = Field(
        description="pending, challenged, upheld, corrected or voided (none: no report accepted)"
    )
    observations: list[ObservationOut] = Field(description="every observation the report carried")
    attestation: dict[str, Any] | None = Field(
        description="the report's digest, observers and co-signers (indexes), and any challenge, verdict, fault "
        "proof or equivocation"
    )
    delivered: Amount | None
    holders_revenue: Amount | None
    protocol_fee: Amount | None
    operator_fee: Amount | None
    service_credit: Amount | None
    revenue_per_kwh: Amount | None = Field(description="holders' revenue per facility kWh, rounded down")
    mining_energy_wh: str | None = Field(description="hybrid sites: what the Bitcoin miners drew")
    mining_revenue: Amount | None = Field(description="hybrid sites: the pool's earnings in the epoch")
    ai_energy_wh: str | None = Field(description="the GPUs' share of facility energy (split by the two meters)")
    ai_revenue_per_kwh: Amount | None = Field(description="lease revenue (delivered) per kWh of the AI share")
    mining_revenue_per_kwh: Amount | None = Field(description="pool earnings per kWh of the mining share")
    gpu_wh_per_delivered_gpu_hour: int | None = Field(description="GPU energy per GPU-hour delivered healthy")
    carbon_free_energy_wh: str | None = Field(description="facility energy x renewable share, rounded down")


class LeaseOut(BaseModel):
    id: int
    asset_id: int
    lessee: str
    owner: str
    lease_class: str
    gpus: int
    start_epoch: int
    end_epoch: int
    price_per_gpu_hour: Amount
    rate_per_epoch: Amount
    prepaid: Amount
    refunded: Amount
    service_credit: Amount
    closed_refund: Amount
    energy_wh: str = Field(description="the lease's GPUs' share of the AI energy of its reported epochs")
    carbon_free_energy_wh: str = Field(description="of which carbon-free (each epoch's renewable share)")
    carbon_grams: str = Field(description="emissions of that energy at each epoch's intensity, rounded up")


class GridEventOut(BaseModel):
    event_id: str
    asset_id: int
    source: str
    starts_at: int
    ends_at: int
    payload_hash: str
    signer: str
    declared_at: int
    energy_income: Amount = Field(description="demand-response and energy credits deposited with this reference")
    holders_income: Amount


class EnergyOut(BaseModel):
    """An asset's energy side over its settled epochs that had a report: each use's energy and revenue side
    by side, green energy, and the demand-response income it earned."""

    asset_id: int
    epochs: int
    ai_energy_wh: str
    mining_energy_wh: str
    ai_revenue: Amount
    mining_revenue: Amount
    ai_revenue_per_kwh: Amount | None
    mining_revenue_per_kwh: Amount | None
    carbon_free_energy_wh: str
    certificates_retired: int
    certificate_energy_wh: str
    energy_income: Amount
    energy_income_to_holders: Amount


class NavRoundOut(BaseModel):
    asset_id: int
    round_id: int
    epoch: int
    price_per_share: Amount
    annual_revenue_per_share: Amount
    uptime_bps: int
    remaining_life_seconds: int
    recorded_at: int
    lending_price: Amount | None = Field(
        None, description="what loans use: the lowest life-capped window price of the last K windows"
    )
    full_windows: int | None = Field(None, description="consecutive full windows behind the round, up to K")


STATUS = {0: "none", 1: "active", 2: "paused", 3: "retired"}
CLASS = {0: "firm", 1: "interruptible"}


def _address(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    if not Web3.is_address(value):
        raise Problem(400, "invalid_address", f"{field} is not an Ethereum address: {value!r}", field)
    return Web3.to_checksum_address(value)


# ------------------------------------------------------------ app
def create_app(services: Services) -> FastAPI:
    from wellhead.gateway.dashboard import mount_dashboard
    from wellhead.gateway.routes import router

    problems: dict[int | str, dict[str, Any]] = {
        code: {"model": ProblemBody, "content": {PROBLEM: {}}} for code in (400, 401, 404, 409, 422, 429, 503)
    }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Few worker threads: the endpoints are short and CPU-bound under the GIL, and 40 threads (Starlette's
        # default) contending for it served a third of what 4 do at 64 connections (make bench-gateway).
        anyio.to_thread.current_default_thread_limiter().total_tokens = services.worker_threads
        yield

    app = FastAPI(title="Wellhead gateway", version="1", description=__doc__, responses=problems, lifespan=lifespan)
    app.state.services = services

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.detail, exc.field, exc.retry_after)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return problem_response(422, "invalid_parameter", f"{field or 'request'}: {first.get('msg')}", field)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return problem_response(503, "unavailable", "the gateway could not answer; try again")

    @app.get("/api/v1/assets", operation_id="listAssets", response_model=Page[AssetOut])
    def list_assets(request: Request, s: S, svc: Svc, limit: Limit = 50, cursor: Cursor = None) -> Response:
        after = decode_cursor(cursor, 1)

        def render() -> Response:
            q = select(db.Asset).order_by(db.Asset.id).limit(limit + 1)
            if after:
                q = q.where(db.Asset.id > after[0])
            rows = list(s.scalars(q))
            facts = _asset_facts(s, [r.id for r in rows[:limit]])
            return page(rows, limit, lambda r: r.id, lambda a: _asset(a, facts))

        return svc.responses.answer(request, s, render)

    @app.get("/api/v1/assets/{asset_id}", operation_id="getAsset", response_model=AssetDetailOut)
    def get_asset(s: S, svc: Svc, asset_id: int) -> Response:
        asset = _require_asset(s, asset_id)
        summary = _asset(asset, _asset_facts(s, [asset_id]))
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

    @app.get("/api/v1/assets/{asset_id}/epochs", operation_id="listAssetEpochs", response_model=Page[EpochOut])
    def list_epochs(
        s: S,
        svc: Svc,
        asset_id: int,
        limit: Limit = 100,
        cursor: Cursor = None,
        from_: Annotated[int | None, Query(alias="from", ge=0, description="epochs ending at or after")] = None,
        to: Annotated[int | None, Query(ge=0, description="epochs starting before")] = None,
    ) -> Response:
        asset = _require_asset(s, asset_id)
        after = decode_cursor(cursor, 1)
        q = select(db.Epoch.epoch, db.Epoch.settled).where(db.Epoch.asset_id == asset_id)
        if after:
            q = q.where(db.Epoch.epoch > after[0])
        if from_ is not None:
            q = q.where(db.Epoch.epoch >= max(0, (from_ - asset.genesis) // asset.epoch_length))
        if to is not None:
            q = q.where(db.Epoch.epoch < max(0, -(-(to - asset.genesis) // asset.epoch_length)))
        keys = [(int(e), bool(settled)) for e, settled in s.execute(q.order_by(db.Epoch.epoch).limit(limit + 1))]
        more = len(keys) > limit
        keys = keys[:limit]
        return _epoch_page(s, svc, asset, keys, encode_cursor([keys[-1][0]]) if more else None)

    @app.get("/api/v1/assets/{asset_id}/nav", operation_id="listNavRounds", response_model=Page[NavRoundOut])
    def list_nav(s: S, asset_id: int, limit: Limit = 100, cursor: Cursor = None) -> Response:
        _require_asset(s, asset_id)
        after = decode_cursor(cursor, 1)
        q = select(db.NavRound).where(db.NavRound.asset_id == asset_id).order_by(db.NavRound.round_id)
        if after:
            q = q.where(db.NavRound.round_id > after[0])
        return page(list(s.scalars(q.limit(limit + 1))), limit, lambda r: r.round_id, _nav)

    @app.get("/api/v1/leases", operation_id="listLeases", response_model=Page[LeaseOut])
    def list_leases(
        s: S,
        limit: Limit = 100,
        cursor: Cursor = None,
        lessee: Annotated[str | None, Query(description="the address that opened the lease")] = None,
        owner: Annotated[str | None, Query(description="the lease NFT's current owner")] = None,
        asset_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    ) -> Response:
        after = decode_cursor(cursor, 1)
        q = select(db.Lease).order_by(db.Lease.id).limit(limit + 1)
        if after:
            q = q.where(db.Lease.id > after[0])
        if (who := _address(lessee, "lessee")) is not None:
            q = q.where(db.Lease.lessee == who)
        if (holder := _address(owner, "owner")) is not None:
            q = q.where(db.Lease.owner == holder)
        if asset_id is not None:
            _require_asset(s, asset_id)
            q = q.where(db.Lease.asset_id == asset_id)
        rows = list(s.scalars(q))
        energy = _lease_energy(s, rows[:limit])
        return page(rows, limit, lambda r: r.id, lambda r: _lease(r, energy[r.id]))

    @app.get("/api/v1/leases/{lease_id}", operation_id="getLease", response_model=LeaseOut)
    def get_lease(s: S, lease_id: int) -> Response:
        lease = s.get(db.Lease, lease_id) if 0 < lease_id < 2**63 else None
        if lease is None:
            raise Problem(404, "lease_not_found", f"no lease {lease_id}", "lease_id")
        return json_response(_lease(lease, _lease_energy(s, [lease])[lease.id]))

    @app.get("/api/v1/assets/{asset_id}/grid-events", operation_id="listGridEvents", response_model=Page[GridEventOut])
    def list_grid_events(s: S, asset_id: int, limit: Limit = 100, cursor: Cursor = None) -> Response:
        _require_asset(s, asset_id)
        after = decode_cursor(cursor, 1)
        q = select(db.GridEventRow).where(db.GridEventRow.asset_id == asset_id).order_by(db.GridEventRow.starts_at)
        if after:
            q = q.where(db.GridEventRow.starts_at > after[0])
        rows = list(s.scalars(q.limit(limit + 1)))
        income = _income_by_reference(s, asset_id, [r.event_id for r in rows[:limit]])
        return page(rows, limit, lambda r: r.starts_at, lambda r: _grid_event(r, income.get(r.event_id, (0, 0))))

    @app.get("/api/v1/assets/{asset_id}/energy", operation_id="getAssetEnergy", response_model=EnergyOut)
    def get_energy(s: S, asset_id: int) -> Response:
        asset = _require_asset(s, asset_id)
        return json_response(_energy_summary(s, asset))

    app.include_router(router)
    mount_dashboard(app)
    return app


def _require_asset(s: Session, asset_id: int) -> db.Asset:
    asset = s.get(db.Asset, asset_id) if 0 < asset_id < 2**63 else None
    if asset is None:
        raise Problem(404, "asset_not_found", f"no asset {asset_id}", "asset_id")
    return asset


def _hex32(value: str) -> str:
    raw = bytes.fromhex(value.removeprefix("0x")).rstrip(b"\0")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return value


def _epoch_page(
    s: Session, svc: Services, asset: db.Asset, keys: list[tuple[int, bool]], next_cursor: str | None
) -> Response:
    """A page of epochs from rendered fragments: settled epochs never change, so each is rendered once."""
    _, rollbacks = index_version(s)
    fragments: dict[int, bytes] = {}
    for epoch, settled in keys:
        cached = svc.fragments.lru.get((asset.id, epoch, rollbacks)) if settled else None
        if cached is not None:
            fragments[epoch] = cached
    missing = [epoch for epoch, _ in keys if epoch not in fragments]
    if missing:
        # plain rows (no ORM objects), with the amounts still decimal text: the hot path of the history
        table = db.Epoch.__table__
        observations: dict[int, list[Any]] = {}
        seen = db.ReportObservation.__table__
        for o in s.execute(
            select(seen)
            .where(seen.c.asset_id == asset.id, seen.c.epoch.in_(missing))
            .order_by(seen.c.epoch, seen.c.observer)
        ):
            observations.setdefault(o.epoch, []).append(o)
        q = select(table).where(table.c.asset_id == asset.id, table.c.epoch.in_(missing))
        for row in s.execute(q):
            fragment = _epoch_json(asset, row, observations.get(row.epoch, []))
            fragments[row.epoch] = fragment
            if row.settled:
                svc.fragments.lru.put((asset.id, row.epoch, rollbacks), fragment)
    items = b",".join(fragments[epoch] for epoch, _ in keys)
    body = b'{"items":[' + items + b'],"next_cursor":' + json.dumps(next_cursor).encode() + b"}"
    return Response(body, media_type="application/json")


@dataclass
class AssetFacts:
    now: int
    leased: dict[int, int]
    price: dict[int, int]


def _asset_facts(s: Session, ids: list[int]) -> AssetFacts:
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


def _asset(a: db.Asset, facts: AssetFacts) -> AssetOut:
    leased = facts.leased.get(a.id, 0)
    return AssetOut(
        leased_gpus=leased,
        utilization_bps=leased * 10_000 // a.gpu_count if a.gpu_count else 0,
        price_per_share=Amount.maybe(facts.price.get(a.id)),
        id=a.id,
        operator=a.operator,
        shares=a.shares,
        site_id=_hex32(a.site_id),
        gpu_class=_hex32(a.gpu_class),
        gpu_count=a.gpu_count,
        max_watts_per_gpu=a.max_watts_per_gpu,
        epoch_length=a.epoch_length,
        genesis=a.genesis,
        status=STATUS.get(a.status, str(a.status)),
        nav_feed=a.nav_feed,
    )


def _amount(value: int | None) -> dict[str, str] | None:
    if value is None:
        return None
    decimals = stablecoin_decimals()
    whole, frac = divmod(value, 10**decimals)
    return {"base_units": str(value), "decimal": f"{whole}.{frac:0{decimals}d}"}


def _uint(value: int | str | None) -> int | None:
    return None if value is None else int(value)


def _observation_json(o: Any) -> dict[str, Any]:
    return {
        "observer": o.observer,
        "attestor": o.attestor,
        "uptime_bps": o.uptime_bps,
        "curtailed_bps": o.curtailed_bps,
        "gpu_energy_wh": str(o.gpu_energy_wh),
        "facility_energy_wh": str(o.facility_energy_wh),
        "mining_energy_wh": str(o.mining_energy_wh),
        "mining_revenue": _amount(_uint(o.mining_revenue)),
        "renewable_bps": o.renewable_bps,
        "carbon_grams_per_kwh": o.carbon_grams_per_kwh,
        "evidence_hash": o.evidence_hash,
        "valid": bool(o.valid),
    }


def _epoch_json(asset: db.Asset, e: Any, observations: list[Any]) -> bytes:
    """One epoch as EpochOut's JSON, from a row of the epochs table (amounts are decimal text there) and its
    observations. Built as a dict, not through the model: this is the hot path of the epoch history."""
    holders, facility = _uint(e.holders_revenue), _uint(e.facility_energy_wh)
    per_kwh = holders * 1_000 // facility if holders is not None and facility else None
    signers: dict[str, Any] = e.signers or {}
    body = {
        "asset_id": e.asset_id,
        "epoch": e.epoch,
        "starts_at": asset.genesis + e.epoch * asset.epoch_length,
        "ends_at": asset.genesis + (e.epoch + 1) * asset.epoch_length,
        "reported": bool(e.reported),
        "settled": bool(e.settled),
        "proven": None if e.proven is None else bool(e.proven),
        "uptime_bps": e.uptime_bps,
        "curtailed_bps": e.curtailed_bps,
        "gpu_energy_wh": None if e.gpu_energy_wh is None else str(e.gpu_energy_wh),
        "facility_energy_wh": None if facility is None else str(facility),
        "renewable_bps": e.renewable_bps,
        "carbon_grams_per_kwh": e.carbon_grams_per_kwh,
        "evidence_hash": e.evidence_hash,
        "signers": list(signers.get("addresses", [])),
        "report_status": e.report_status,
        "observations": [_observation_json(o) for o in observations],
        "attestation": e.attestation,
        "delivered": _amount(_uint(e.delivered)),
        "holders_revenue": _amount(holders),
        "protocol_fee": _amount(_uint(e.protocol_fee)),
        "operator_fee": _amount(_uint(e.operator_fee)),
        "service_credit": _amount(_uint(e.service_credit)),
        "revenue_per_kwh": _amount(per_kwh),
        **_energy_fields(asset, e),
    }
    return json.dumps(body, separators=(",", ":")).encode()


ENERGY_FIELDS = (
    "mining_energy_wh",
    "mining_revenue",
    "ai_energy_wh",
    "ai_revenue_per_kwh",
    "mining_revenue_per_kwh",
    "gpu_wh_per_delivered_gpu_hour",
    "carbon_free_energy_wh",
)


def _metered(e: Any) -> tuple[int, int, int]:
    """An epoch row's facility, GPU and mining energy (Wh; zero where not reported)."""
    return _uint(e.facility_energy_wh) or 0, _uint(e.gpu_energy_wh) or 0, _uint(e.mining_energy_wh) or 0


def _energy_fields(asset: db.Asset, e: Any) -> dict[str, Any]:
    """An epoch's hybrid split and green values (None before its report)."""
    if not e.reported:
        return dict.fromkeys(ENERGY_FIELDS)
    facility, gpu, mining = _metered(e)
    mining_revenue = _uint(e.mining_revenue) or 0
    split = split_by_use(facility, gpu, mining, _uint(e.delivered) or 0, mining_revenue)
    return {
        "mining_energy_wh": str(mining),
        "mining_revenue": _amount(mining_revenue),
        "ai_energy_wh": str(split.ai_wh),
        "ai_revenue_per_kwh": _amount(split.ai_revenue_per_kwh) if e.settled else None,
        "mining_revenue_per_kwh": _amount(split.mining_revenue_per_kwh),
        "gpu_wh_per_delivered_gpu_hour": wh_per_delivered_gpu_hour(
            gpu, asset.gpu_count, asset.epoch_length, e.uptime_bps or 0
        ),
        "carbon_free_energy_wh": str(carbon_free_wh(facility, e.renewable_bps or 0)),
    }


@dataclass(frozen=True)
class LeaseEnergy:
    wh: int = 0
    carbon_free_wh: int = 0
    carbon_grams: int = 0


def _lease_energy(s: Session, leases: list[db.Lease]) -> dict[int, LeaseEnergy]:
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
            used = lease_energy_wh(*_metered(e), x.gpus, asset_gpus)
            wh += used
            green += carbon_free_wh(used, e.renewable_bps or 0)
            grams += carbon_grams(used, e.carbon_grams_per_kwh or 0)
        out[x.id] = LeaseEnergy(wh, green, grams)
    return out


def _lease(x: db.Lease, energy: LeaseEnergy) -> LeaseOut:
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


SOURCES = {0: "openadr", 1: "manual"}


def _grid_event(r: db.GridEventRow, income: tuple[int, int]) -> GridEventOut:
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


def _income_by_reference(s: Session, asset_id: int, references: list[str] | None) -> dict[str, tuple[int, int]]:
    """Energy income (amount, holders' part) per reference; every reference when `references` is None."""
    q = select(db.EnergyIncome).where(db.EnergyIncome.asset_id == asset_id)
    if references is not None:
        q = q.where(db.EnergyIncome.reference.in_(references))
    out: dict[str, tuple[int, int]] = {}
    for row in s.scalars(q):
        amount, holders = out.get(row.reference, (0, 0))
        out[row.reference] = (amount + row.amount, holders + row.holders_revenue)
    return out


def _energy_summary(s: Session, asset: db.Asset) -> EnergyOut:
    """Over the asset's settled epochs that had a report: lease revenue and pool earnings cover the same
    epochs as the energy they are divided by."""
    table = db.Epoch.__table__
    q = select(table).where(table.c.asset_id == asset.id, table.c.reported.is_(True), table.c.settled.is_(True))
    rows = list(s.execute(q))
    ai_wh = mining_wh = ai_revenue = mining_revenue = green = 0
    for e in rows:
        facility, gpu, mining = _metered(e)
        split = split_by_use(facility, gpu, mining, 0, 0)
        ai_wh += split.ai_wh
        mining_wh += split.mining_wh
        ai_revenue += _uint(e.delivered) or 0
        mining_revenue += _uint(e.mining_revenue) or 0
        green += carbon_free_wh(facility, e.renewable_bps or 0)
    certificates = list(s.scalars(select(db.RetiredCertificate).where(db.RetiredCertificate.asset_id == asset.id)))
    income = _income_by_reference(s, asset.id, None).values()
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


def _nav(r: db.NavRound) -> NavRoundOut:
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
