"""The gateway's REST API (read side): assets, their epoch history, leases and NAV rounds from the index.

Every list is cursor-paginated (`cursor` from the previous page's `next_cursor`, `limit` up to 500) and
time-filtered where it has a time (`from`/`to`, unix seconds). Amounts are strings of base units plus a
decimal rendering. Every error is an RFC 9457 problem (`application/problem+json`) with a stable `code`.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from web3 import Web3

from wellhead.gateway import db
from wellhead.units import fmt_units

log = logging.getLogger("wellhead.gateway")
MAX_LIMIT = 500
PROBLEM = "application/problem+json"


class Problem(Exception):
    """An error the API answers with: HTTP status, a stable machine code, a human detail, the field."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field


class ProblemBody(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str
    field: str | None = None


class Amount(BaseModel):
    """An amount of the stablecoin: exact base units as a string, and the same as a decimal."""

    base_units: str
    decimal: str

    @classmethod
    def of(cls, value: int) -> Amount:
        return cls(base_units=str(value), decimal=fmt_units(value).replace(",", ""))

    @classmethod
    def maybe(cls, value: int | None) -> Amount | None:
        return None if value is None else cls.of(value)


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
    evidence_hash: str | None
    signers: list[str]
    delivered: Amount | None
    holders_revenue: Amount | None
    protocol_fee: Amount | None
    operator_fee: Amount | None
    service_credit: Amount | None
    revenue_per_kwh: Amount | None = Field(description="holders' revenue per facility kWh, rounded down")


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


class NavRoundOut(BaseModel):
    asset_id: int
    round_id: int
    epoch: int
    price_per_share: Amount
    annual_revenue_per_share: Amount
    uptime_bps: int
    remaining_life_seconds: int
    recorded_at: int


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


STATUS = {0: "none", 1: "active", 2: "paused", 3: "retired"}
CLASS = {0: "firm", 1: "interruptible"}


# ------------------------------------------------------------ cursors and parameters
def _encode_cursor(key: list[int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, size: int) -> list[int] | None:
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        key = None
    if not (isinstance(key, list) and len(key) == size and all(isinstance(k, int) and k >= 0 for k in key)):
        raise Problem(400, "invalid_cursor", "the cursor is not one this API gave out", "cursor")
    return key


def _address(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    if not Web3.is_address(value):
        raise Problem(400, "invalid_address", f"{field} is not an Ethereum address: {value!r}", field)
    return Web3.to_checksum_address(value)


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]


def _session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as s:
        yield s


S = Annotated[Session, Depends(_session)]


# ------------------------------------------------------------ app
def create_app(sessions: sessionmaker[Session]) -> FastAPI:
    app = FastAPI(
        title="Wellhead gateway",
        version="1",
        description=__doc__,
        responses={400: {"model": ProblemBody}, 404: {"model": ProblemBody}, 422: {"model": ProblemBody}},
    )

    app.state.sessions = sessions

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return _problem(exc.status, exc.code, exc.detail, exc.field)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return _problem(422, "invalid_parameter", f"{field or 'request'}: {first.get('msg')}", field)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _problem(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return _problem(503, "unavailable", "the gateway could not answer; try again")

    @app.get("/api/v1/assets", operation_id="listAssets", response_model=Page[AssetOut])
    def list_assets(s: S, limit: Limit = 50, cursor: Cursor = None) -> Page[AssetOut]:
        after = _decode_cursor(cursor, 1)
        q = select(db.Asset).order_by(db.Asset.id).limit(limit + 1)
        if after:
            q = q.where(db.Asset.id > after[0])
        return _page(list(s.scalars(q)), limit, lambda r: r.id, _asset)

    @app.get("/api/v1/assets/{asset_id}", operation_id="getAsset", response_model=AssetOut)
    def get_asset(s: S, asset_id: int) -> AssetOut:
        return _asset(_require_asset(s, asset_id))

    @app.get("/api/v1/assets/{asset_id}/epochs", operation_id="listAssetEpochs", response_model=Page[EpochOut])
    def list_epochs(
        s: S,
        asset_id: int,
        limit: Limit = 100,
        cursor: Cursor = None,
        from_: Annotated[int | None, Query(alias="from", ge=0, description="epochs ending at or after")] = None,
        to: Annotated[int | None, Query(ge=0, description="epochs starting before")] = None,
    ) -> Page[EpochOut]:
        asset = _require_asset(s, asset_id)
        after = _decode_cursor(cursor, 1)
        q = select(db.Epoch).where(db.Epoch.asset_id == asset_id).order_by(db.Epoch.epoch).limit(limit + 1)
        if after:
            q = q.where(db.Epoch.epoch > after[0])
        if from_ is not None:
            q = q.where(db.Epoch.epoch >= max(0, (from_ - asset.genesis) // asset.epoch_length))
        if to is not None:
            q = q.where(db.Epoch.epoch < max(0, -(-(to - asset.genesis) // asset.epoch_length)))
        return _page(list(s.scalars(q)), limit, lambda r: r.epoch, lambda r: _epoch(asset, r))

    @app.get("/api/v1/assets/{asset_id}/nav", operation_id="listNavRounds", response_model=Page[NavRoundOut])
    def list_nav(s: S, asset_id: int, limit: Limit = 100, cursor: Cursor = None) -> Page[NavRoundOut]:
        _require_asset(s, asset_id)
        after = _decode_cursor(cursor, 1)
        q = select(db.NavRound).where(db.NavRound.asset_id == asset_id).order_by(db.NavRound.round_id)
        if after:
            q = q.where(db.NavRound.round_id > after[0])
        return _page(list(s.scalars(q.limit(limit + 1))), limit, lambda r: r.round_id, _nav)

    @app.get("/api/v1/leases", operation_id="listLeases", response_model=Page[LeaseOut])
    def list_leases(
        s: S,
        limit: Limit = 100,
        cursor: Cursor = None,
        lessee: Annotated[str | None, Query(description="the address that opened the lease")] = None,
        owner: Annotated[str | None, Query(description="the lease NFT's current owner")] = None,
        asset_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    ) -> Page[LeaseOut]:
        after = _decode_cursor(cursor, 1)
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
        return _page(list(s.scalars(q)), limit, lambda r: r.id, _lease)

    @app.get("/api/v1/leases/{lease_id}", operation_id="getLease", response_model=LeaseOut)
    def get_lease(s: S, lease_id: int) -> LeaseOut:
        lease = s.get(db.Lease, lease_id) if 0 < lease_id < 2**63 else None
        if lease is None:
            raise Problem(404, "lease_not_found", f"no lease {lease_id}", "lease_id")
        return _lease(lease)

    return app


R = TypeVar("R")


def _page(rows: list[R], limit: int, key: Callable[[R], int], render: Callable[[R], BaseModel]) -> Page[Any]:
    """One page of `rows` (fetched with limit + 1 to know whether more follow) and the cursor after it."""
    more = len(rows) > limit
    rows = rows[:limit]
    return Page[Any](items=[render(r) for r in rows], next_cursor=_encode_cursor([key(rows[-1])]) if more else None)


def _problem(status: int, code: str, detail: str, field: str | None = None) -> JSONResponse:
    title = {400: "Bad request", 404: "Not found", 422: "Invalid parameter", 503: "Unavailable"}.get(status, "Error")
    body = ProblemBody(title=title, status=status, code=code, detail=detail, field=field)
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM)


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


def _asset(a: db.Asset) -> AssetOut:
    return AssetOut(
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


def _epoch(asset: db.Asset, e: db.Epoch) -> EpochOut:
    per_kwh = None
    if e.holders_revenue is not None and e.facility_energy_wh:
        per_kwh = e.holders_revenue * 1_000 // e.facility_energy_wh
    signers: dict[str, Any] = e.signers or {}
    return EpochOut(
        asset_id=e.asset_id,
        epoch=e.epoch,
        starts_at=asset.genesis + e.epoch * asset.epoch_length,
        ends_at=asset.genesis + (e.epoch + 1) * asset.epoch_length,
        reported=e.reported,
        settled=e.settled,
        proven=e.proven,
        uptime_bps=e.uptime_bps,
        curtailed_bps=e.curtailed_bps,
        gpu_energy_wh=None if e.gpu_energy_wh is None else str(e.gpu_energy_wh),
        facility_energy_wh=None if e.facility_energy_wh is None else str(e.facility_energy_wh),
        renewable_bps=e.renewable_bps,
        carbon_grams_per_kwh=e.carbon_grams_per_kwh,
        evidence_hash=e.evidence_hash,
        signers=list(signers.get("addresses", [])),
        delivered=Amount.maybe(e.delivered),
        holders_revenue=Amount.maybe(e.holders_revenue),
        protocol_fee=Amount.maybe(e.protocol_fee),
        operator_fee=Amount.maybe(e.operator_fee),
        service_credit=Amount.maybe(e.service_credit),
        revenue_per_kwh=Amount.maybe(per_kwh),
    )


def _lease(x: db.Lease) -> LeaseOut:
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
    )
