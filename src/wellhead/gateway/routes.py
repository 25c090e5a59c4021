"""The API's account and write side: sign-in, API keys, webhooks, investor positions, evidence, and
transactions prepared for the client to sign and relayed once signed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3

from wellhead.gateway import db
from wellhead.gateway.idempotency import fingerprint, run_once
from wellhead.gateway.paging import Cursor, Limit, Page, decode_cursor, json_response, page
from wellhead.gateway.problems import Problem
from wellhead.gateway.services import Caller, IdempotencyKey, S, Signed, Svc
from wellhead.gateway.webhooks import EVENT_TYPES, new_secret, public_host_problem
from wellhead.gateway.writes import (
    BTC_DECIMALS,
    SHARE_DECIMALS,
    Amount,
    ApproveIn,
    AuthorizationIn,
    BuySharesIn,
    ClaimRefundIn,
    ClaimRevenueIn,
    ExtendLeaseIn,
    LeaseIn,
    OpenLeaseIn,
    PermitIn,
    PreparedAuthorization,
    PreparedPermit,
    PreparedTransaction,
    RelayIn,
    TransactionStatus,
    TransferSharesIn,
    address,
)

router = APIRouter(prefix="/api/v1")
M = TypeVar("M", bound=BaseModel)
HASH = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def _once(
    request: Request,
    s: Session,
    caller: Any,
    key: str | None,
    body: BaseModel | None,
    run: Callable[[], Any],
    status: int = 200,
    secret_fields: tuple[str, ...] = (),
) -> JSONResponse:
    scope = caller.credential if caller is not None else "anonymous"
    request_hash = fingerprint(request.method, request.url.path, body)
    return run_once(s, scope, key, request_hash, lambda: (status, run()), secret_fields)


# ------------------------------------------------------------ sign-in
class NonceOut(BaseModel):
    nonce: str
    domain: str
    chain_id: int


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(max_length=4_000, description="the EIP-4361 message, as signed")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class SessionOut(BaseModel):
    token: str
    address: str
    expires_at: int


@router.get("/auth/nonce", operation_id="getSignInNonce", response_model=NonceOut, tags=["auth"])
def get_nonce(s: S, svc: Svc) -> NonceOut:
    return NonceOut(nonce=svc.auth.issue_nonce(s), domain=svc.auth.domain, chain_id=svc.auth.chain_id)


@router.post("/auth/sessions", operation_id="signIn", response_model=SessionOut, status_code=201, tags=["auth"])
def sign_in(s: S, svc: Svc, body: SignInIn) -> SessionOut:
    """Exchanges a signed Sign-In with Ethereum message for a bearer token. The message's single-use nonce
    makes this idempotent by itself, so it takes no Idempotency-Key (and no token is ever stored in clear)."""
    token, who, expires = svc.auth.sign_in(s, body.message, body.signature)
    return SessionOut(token=token, address=who, expires_at=expires)


# ------------------------------------------------------------ API keys
class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    rate_per_minute: int | None = Field(default=None, ge=1, le=100_000)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    rate_per_minute: int
    created_at: int
    revoked: bool
    key: str | None = Field(default=None, description="the key itself: only in the answer that created it")


def _key_out(row: db.ApiKey, key: str | None = None) -> ApiKeyOut:
    return ApiKeyOut.model_validate(row).model_copy(update={"key": key})


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]


@router.post("/api-keys", operation_id="createApiKey", response_model=ApiKeyOut, status_code=201, tags=["auth"])
def create_key(request: Request, s: S, svc: Svc, caller: Signed, body: ApiKeyIn, key: IdempotencyKey = None) -> Any:
    def run() -> ApiKeyOut:
        row, secret = svc.auth.create_key(s, caller.address, body.name, body.rate_per_minute)
        return _key_out(row, secret)

    # the key is never stored in clear, so a replayed answer has `key: null` (list the keys to see the new one)
    return _once(request, s, caller, key, body, run, 201, secret_fields=("key",))


@router.get("/api-keys", operation_id="listApiKeys", response_model=ApiKeyList, tags=["auth"])
def list_keys(s: S, caller: Signed) -> ApiKeyList:
    rows = s.scalars(select(db.ApiKey).where(db.ApiKey.owner == caller.address).order_by(db.ApiKey.id))
    return ApiKeyList(items=[_key_out(r) for r in rows])


@router.delete("/api-keys/{key_id}", operation_id="revokeApiKey", status_code=204, tags=["auth"])
def revoke_key(s: S, caller: Signed, key_id: Annotated[int, Field(ge=1, le=2**63 - 1)]) -> Response:
    row = s.get(db.ApiKey, key_id)
    if row is None or row.owner != caller.address:  # another owner's key is not there, as far as you know
        raise Problem(404, "api_key_not_found", f"no API key {key_id} of yours", "key_id")
    row.revoked = True
    s.commit()
    return Response(status_code=204)


# ------------------------------------------------------------ webhooks
EventType = Literal["lease.started", "lease.ended", "epoch.settled", "sla.breached", "report.challenged"]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: AnyHttpUrl
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: int
    secret: str | None = Field(default=None, description="the signing secret: only in the answer that created it")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    message_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: int
    delivered_at: int | None
    payload: dict[str, Any]


def _hook_out(row: db.WebhookSubscription, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        url=row.url,
        events=list(row.events.get("types", [])),
        active=row.active,
        created_at=row.created_at,
        secret=secret,
    )


def _own_hook(s: Session, caller: Any, hook_id: int) -> db.WebhookSubscription:
    row = s.get(db.WebhookSubscription, hook_id) if 0 < hook_id < 2**63 else None
    if row is None or row.owner != caller.address or not row.active:
        raise Problem(404, "webhook_not_found", f"no webhook {hook_id} of yours", "webhook_id")
    return row


@router.post("/webhooks", operation_id="createWebhook", response_model=WebhookOut, status_code=201, tags=["webhooks"])
def create_hook(request: Request, s: S, svc: Svc, caller: Signed, body: WebhookIn, key: IdempotencyKey = None) -> Any:
    import time

    if not svc.webhook_private_hosts and (why := public_host_problem(str(body.url))) is not None:
        raise Problem(422, "webhook_url_not_public", why, "url")

    def run() -> WebhookOut:
        secret = new_secret()
        row = db.WebhookSubscription(
            owner=caller.address,
            url=str(body.url),
            events={"types": sorted(set(body.events))},
            secret=secret,
            created_at=int(time.time()),
            active=True,
        )
        s.add(row)
        s.flush()
        return _hook_out(row, secret)

    return _once(request, s, caller, key, body, run, 201)


@router.get("/webhooks", operation_id="listWebhooks", response_model=WebhookList, tags=["webhooks"])
def list_hooks(s: S, caller: Signed) -> WebhookList:
    q = select(db.WebhookSubscription).where(
        db.WebhookSubscription.owner == caller.address, db.WebhookSubscription.active
    )
    return WebhookList(items=[_hook_out(r) for r in s.scalars(q.order_by(db.WebhookSubscription.id))])


@router.delete("/webhooks/{webhook_id}", operation_id="deleteWebhook", status_code=204, tags=["webhooks"])
def delete_hook(s: S, caller: Signed, webhook_id: int) -> Response:
    _own_hook(s, caller, webhook_id).active = False
    s.commit()
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    operation_id="listWebhookDeliveries",
    response_model=Page[DeliveryOut],
    tags=["webhooks"],
)
def list_deliveries(
    s: S,
    caller: Signed,
    webhook_id: int,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    _own_hook(s, caller, webhook_id)
    after = decode_cursor(cursor, 1)
    q = select(db.WebhookDelivery).where(db.WebhookDelivery.subscription_id == webhook_id)
    if after:
        q = q.where(db.WebhookDelivery.id > after[0])
    rows = list(s.scalars(q.order_by(db.WebhookDelivery.id).limit(limit + 1)))

    return page(rows, limit, lambda r: r.id, DeliveryOut.model_validate)


# ------------------------------------------------------------ positions
class SharePosition(BaseModel):
    asset_id: int
    shares: Amount
    claimable_revenue: Amount = Field(description="live from the chain")
    price_per_share: Amount | None = Field(description="the asset's latest NAV round, if any")
    value: Amount | None = Field(description="shares x NAV price, rounded down")


class CreditPositionOut(BaseModel):
    asset_id: int
    collateral: Amount
    debt: Amount = Field(description="live: with interest, less collateral revenue not yet applied")
    health_factor: str | None = Field(description="1e18 = 1.0; None without debt")
    borrow_capacity: Amount
    borrowed_total: Amount
    repaid_total: Amount
    revenue_applied: Amount
    liquidations: int


class BtcPositionOut(BaseModel):
    collateral: Amount = Field(description="wrapped BTC pledged (8 decimals)")
    debt: Amount = Field(description="live, with interest")
    health_factor: str | None = Field(description="1e18 = 1.0 at the feed's latest answer; None without debt")
    borrow_capacity: Amount = Field(description="zero while the BTC price is stale or not positive")


class PositionsOut(BaseModel):
    address: str
    shares: list[SharePosition]
    credit: list[CreditPositionOut]
    btc: BtcPositionOut | None = Field(None, description="the account's position in the BTC market, if any")


@router.get(
    "/accounts/{account}/positions", operation_id="getPositions", response_model=PositionsOut, tags=["investors"]
)
def get_positions(s: S, svc: Svc, account: str) -> Response:
    from wellhead.chain.artifacts import abi

    who = address(account, "account")
    w3 = svc.w3
    holdings = s.execute(
        select(db.Asset, db.ShareBalance.balance)
        .join(db.ShareBalance, db.ShareBalance.token == db.Asset.shares)
        .where(db.ShareBalance.holder == who, db.ShareBalance.balance != 0)
        .order_by(db.Asset.id)
    )
    shares: list[SharePosition] = []
    for asset, balance in holdings:
        token = w3.eth.contract(address=Web3.to_checksum_address(asset.shares), abi=abi("CapacityShares"))
        claimable = int(token.functions.claimable(who).call())
        nav = s.scalar(
            select(db.NavRound).where(db.NavRound.asset_id == asset.id).order_by(db.NavRound.round_id.desc()).limit(1)
        )
        price = nav.price_per_share if nav is not None else None
        shares.append(
            SharePosition(
                asset_id=asset.id,
                shares=Amount.of(balance, SHARE_DECIMALS),
                claimable_revenue=Amount.of(claimable),
                price_per_share=Amount.maybe(price),
                value=Amount.maybe(None if price is None else balance * price // 10**SHARE_DECIMALS),
            )
        )
    credit: list[CreditPositionOut] = []
    if "CreditMarket" in svc.deployment.contracts:
        market = w3.eth.contract(
            address=Web3.to_checksum_address(svc.deployment.address("CreditMarket")), abi=abi("CreditMarket")
        )
        for p in s.scalars(select(db.CreditPosition).where(db.CreditPosition.borrower == who)):
            debt = int(market.functions.debtOf(p.asset_id, who).call())
            health = int(market.functions.healthFactor(p.asset_id, who).call()) if debt else None
            credit.append(
                CreditPositionOut(
                    asset_id=p.asset_id,
                    collateral=Amount.of(p.collateral, SHARE_DECIMALS),
                    debt=Amount.of(debt),
                    health_factor=None if health is None else str(health),
                    borrow_capacity=Amount.of(int(market.functions.borrowCapacity(p.asset_id, who).call())),
                    borrowed_total=Amount.of(p.borrowed),
                    repaid_total=Amount.of(p.repaid),
                    revenue_applied=Amount.of(p.revenue_applied),
                    liquidations=p.liquidations,
                )
            )
    return json_response(PositionsOut(address=who, shares=shares, credit=credit, btc=_btc_position(svc, who)))


def _btc_position(svc: Any, who: str) -> BtcPositionOut | None:
    if "BtcCreditMarket" not in svc.deployment.contracts:
        return None
    from wellhead.chain.artifacts import abi

    market = svc.w3.eth.contract(
        address=Web3.to_checksum_address(svc.deployment.address("BtcCreditMarket")), abi=abi("BtcCreditMarket")
    ).functions
    collateral, _shares = market.positionOf(who).call()
    debt = int(market.debtOf(who).call())
    if collateral == 0 and debt == 0:
        return None
    health = int(market.healthFactor(who).call()) if debt else None
    return BtcPositionOut(
        collateral=Amount.of(int(collateral), BTC_DECIMALS),
        debt=Amount.of(debt),
        health_factor=None if health is None else str(health),
        borrow_capacity=Amount.of(int(market.borrowCapacity(who).call())),
    )


# ------------------------------------------------------------ credit markets
class CapsOut(BaseModel):
    borrow_cap: Amount
    borrow_used: Amount = Field(description="the debt the collateral backs now")
    supply_cap: Amount
    supply_used: Amount = Field(description="the collateral pledged now")


class FeedTrackRecordOut(BaseModel):
    feed: str
    nav: Amount | None = Field(description="the latest NAV per share (a valuation, not what loans use)")
    lending_price: Amount | None = Field(description="what loans use: the lowest life-capped price of K windows")
    epoch: int | None
    stale: bool
    seasoned: bool = Field(description="K full windows recorded: only a seasoned feed backs new loans")
    full_windows: int = Field(description="consecutive full windows behind the latest round, up to K")
    window_epochs: int
    track_record_windows: int = Field(description="K")
    lending_life_windows: int = Field(description="M: the most windows of revenue a share is lent against")
    recovered_at: int = Field(description="when the feed last recovered from staleness (0: never)")


class CapacityCreditOut(BaseModel):
    asset_id: int
    ltv_bps: int
    liquidation_threshold_bps: int
    liquidation_bonus_bps: int
    close_factor_bps: int
    caps: CapsOut
    feed: FeedTrackRecordOut


class BtcMarketOut(BaseModel):
    collateral_token: str
    price_feed: str
    sequencer_feed: str | None
    heartbeat_seconds: int
    price_per_btc: Amount
    price_usable: bool = Field(description="positive and updated within the heartbeat")
    ltv_bps: int
    liquidation_threshold_bps: int
    liquidation_bonus_bps: int
    close_factor_bps: int
    caps: CapsOut
    liquidity: Amount
    bad_debt: Amount
    liquidation_grace_until: int = Field(description="after a recorded stablecoin pause or price outage (0: none)")


class CreditMarketsOut(BaseModel):
    capacity: list[CapacityCreditOut]
    btc: BtcMarketOut | None


@router.get("/credit/markets", operation_id="getCreditMarkets", response_model=CreditMarketsOut, tags=["credit"])
def get_credit_markets(s: S, svc: Svc) -> Response:
    """Every listed asset's risk parameters, caps and their use, and its feed's track record; the BTC market's
    feed, caps, liquidity and grace. Live from the chain."""
    from wellhead.chain.artifacts import abi

    w3 = svc.w3
    capacity: list[CapacityCreditOut] = []
    if "CreditMarket" in svc.deployment.contracts:
        market = w3.eth.contract(
            address=Web3.to_checksum_address(svc.deployment.address("CreditMarket")),
            abi=abi("CreditMarket"),
            decode_tuples=True,
        ).functions
        listed = s.scalars(
            select(db.ChainEvent)
            .where(db.ChainEvent.contract == "CreditMarket", db.ChainEvent.name == "CollateralListed")
            .order_by(db.ChainEvent.id)
        )
        for event in listed:
            capacity.append(_capacity_credit(w3, market, int(event.args["assetId"]), event.args["feed"]))
    return json_response(CreditMarketsOut(capacity=capacity, btc=_btc_market(svc)))


def _capacity_credit(w3: Web3, market: Any, asset_id: int, feed_address: str) -> CapacityCreditOut:
    from wellhead.chain.artifacts import abi

    p, caps = market.collateralParams(asset_id).call(), market.capsOf(asset_id).call()
    feed = w3.eth.contract(address=Web3.to_checksum_address(feed_address), abi=abi("NavOracle"), decode_tuples=True)
    f = feed.functions
    params = f.params().call()
    rounds = int(f.roundCount().call())
    nav = lending = epoch = None
    stale, seasoned, full = bool(f.isStale().call()), False, 0
    if rounds:
        latest = f.roundAt(rounds).call()
        nav, lending, epoch, full = (
            int(latest.pricePerShare),
            int(latest.lendingPrice),
            int(latest.epoch),
            int(latest.fullWindows),
        )
        seasoned = full >= int(params.trackRecordWindows)
    revenue = market.collateralRevenue(asset_id).call()
    return CapacityCreditOut(
        asset_id=asset_id,
        ltv_bps=p.ltvBps,
        liquidation_threshold_bps=p.liquidationThresholdBps,
        liquidation_bonus_bps=p.liquidationBonusBps,
        close_factor_bps=p.closeFactorBps,
        caps=CapsOut(
            borrow_cap=Amount.of(int(caps.borrowCap)),
            borrow_used=Amount.of(int(market.assetDebt(asset_id).call())),
            supply_cap=Amount.of(int(caps.supplyCap), SHARE_DECIMALS),
            supply_used=Amount.of(int(revenue.totalCollateral), SHARE_DECIMALS),
        ),
        feed=FeedTrackRecordOut(
            feed=Web3.to_checksum_address(feed_address),
            nav=Amount.maybe(nav),
            lending_price=Amount.maybe(lending),
            epoch=epoch,
            stale=stale,
            seasoned=seasoned,
            full_windows=full,
            window_epochs=int(params.windowEpochs),
            track_record_windows=int(params.trackRecordWindows),
            lending_life_windows=int(params.lendingLifeWindows),
            recovered_at=int(f.recoveredAt().call()),
        ),
    )


def _btc_market(svc: Any) -> BtcMarketOut | None:
    if "BtcCreditMarket" not in svc.deployment.contracts:
        return None
    from wellhead.chain.artifacts import abi

    m = svc.w3.eth.contract(
        address=Web3.to_checksum_address(svc.deployment.address("BtcCreditMarket")),
        abi=abi("BtcCreditMarket"),
        decode_tuples=True,
    ).functions
    p, caps = m.collateralParams().call(), m.capsOf().call()
    price, usable = m.price().call()
    sequencer = m.sequencerFeed().call()
    grace = max(int(m.stablecoinGraceUntil().call()), int(m.priceOutageGraceUntil().call()))
    return BtcMarketOut(
        collateral_token=m.collateralToken().call(),
        price_feed=m.priceFeed().call(),
        sequencer_feed=None if int(sequencer, 16) == 0 else sequencer,
        heartbeat_seconds=int(m.heartbeat().call()),
        price_per_btc=Amount.of(int(price)),
        price_usable=bool(usable),
        ltv_bps=p.ltvBps,
        liquidation_threshold_bps=p.liquidationThresholdBps,
        liquidation_bonus_bps=p.liquidationBonusBps,
        close_factor_bps=p.closeFactorBps,
        caps=CapsOut(
            borrow_cap=Amount.of(int(caps.borrowCap)),
            borrow_used=Amount.of(int(m.totalBorrowed().call())),
            supply_cap=Amount.of(int(caps.supplyCap), BTC_DECIMALS),
            supply_used=Amount.of(int(m.totalCollateral().call()), BTC_DECIMALS),
        ),
        liquidity=Amount.of(int(m.idle().call())),
        bad_debt=Amount.of(int(m.badDebt().call())),
        liquidation_grace_until=grace,
    )


class LiquidationOut(BaseModel):
    market: Literal["capacity", "btc"] = Field(description="capacity shares (CreditMarket) or wrapped BTC")
    asset_id: int | None = Field(description="the capacity asset; None in the BTC market")
    borrower: str
    liquidator: str
    repaid: Amount
    seized: Amount = Field(description="capacity shares (18 decimals) or wrapped BTC (8)")
    price_per_share: Amount = Field(description="per whole share, or per whole bitcoin")
    bad_debt: Amount
    block_number: int
    tx_hash: str
    timestamp: int


@router.get(
    "/credit/liquidations", operation_id="listLiquidations", response_model=Page[LiquidationOut], tags=["credit"]
)
def list_liquidations(
    s: S,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    after = decode_cursor(cursor, 1)
    q = select(db.ChainEvent).where(
        db.ChainEvent.contract.in_(("CreditMarket", "BtcCreditMarket")), db.ChainEvent.name == "Liquidated"
    )
    if after:
        q = q.where(db.ChainEvent.id > after[0])
    rows = list(s.scalars(q.order_by(db.ChainEvent.id).limit(limit + 1)))

    def render(r: db.ChainEvent) -> LiquidationOut:
        btc = r.contract == "BtcCreditMarket"
        return LiquidationOut(
            market="btc" if btc else "capacity",
            asset_id=None if btc else r.args["assetId"],
            borrower=r.args["borrower"],
            liquidator=r.args["liquidator"],
            repaid=Amount.of(r.args["repaid"]),
            seized=Amount.of(r.args["seized"], BTC_DECIMALS if btc else SHARE_DECIMALS),
            price_per_share=Amount.of(r.args["price" if btc else "pricePerShare"]),
            bad_debt=Amount.of(r.args["badDebt"]),
            block_number=r.block_number,
            tx_hash=r.tx_hash,
            timestamp=r.timestamp,
        )

    return page(rows, limit, lambda r: r.id, render)


# ------------------------------------------------------------ evidence
@router.get(
    "/evidence/{evidence_hash}",
    operation_id="getEvidence",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the evidence file"}},
    tags=["reports"],
)
def get_evidence(s: S, svc: Svc, evidence_hash: str) -> Response:
    """The evidence file behind a report's evidence hash, served only if its SHA-256 is that hash."""
    if not HASH.match(evidence_hash):
        raise Problem(422, "invalid_hash", "a 32-byte hex hash", "evidence_hash")
    digest = evidence_hash.lower().removeprefix("0x")
    known = s.scalar(
        select(db.ReportObservation.asset_id).where(db.ReportObservation.evidence_hash == "0x" + digest).limit(1)
    )
    if known is None:
        raise Problem(404, "evidence_unknown", "no accepted report carries this evidence hash", "evidence_hash")
    for directory in svc.evidence_dirs:
        path = Path(directory) / f"{digest}.npz"
        if path.is_file():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != digest:
                raise Problem(
                    502, "evidence_corrupt", "the stored file does not match its hash: not served", "evidence_hash"
                )
            return Response(
                data,
                media_type="application/octet-stream",
                headers={"Content-Disposition": f'attachment; filename="{digest}.npz"', "X-Evidence-SHA256": digest},
            )
    raise Problem(
        404, "evidence_not_available", "the report is known but its file is not on this gateway", "evidence_hash"
    )


# ------------------------------------------------------------ transactions
def _prepare_route(path: str, op: str, model: type[M], method: str, summary: str) -> None:
    def endpoint(request: Request, s: S, svc: Svc, caller: Caller, body: Any, key: IdempotencyKey = None) -> Any:
        return _once(request, s, caller, key, body, lambda: getattr(svc.writes, method)(s, body))

    endpoint.__annotations__["body"] = model
    router.add_api_route(
        f"/transactions/prepare/{path}",
        endpoint,
        methods=["POST"],
        operation_id=op,
        response_model=PreparedTransaction,
        summary=summary,
        tags=["transactions"],
    )


for _path, _op, _model, _method, _summary in (
    ("open-lease", "prepareOpenLease", OpenLeaseIn, "open_lease", "Open a lease (prepaid into escrow)"),
    ("extend-lease", "prepareExtendLease", ExtendLeaseIn, "extend_lease", "Top a lease up with more epochs"),
    ("close-lease", "prepareCloseLease", LeaseIn, "close_lease", "Close a lease; unstarted epochs refunded"),
    ("claim-refund", "prepareClaimRefund", ClaimRefundIn, "claim_refund", "Claim a lease's refunds and credits"),
    ("claim-revenue", "prepareClaimRevenue", ClaimRevenueIn, "claim_revenue", "Claim a holder's revenue"),
    ("buy-shares", "prepareBuyShares", BuySharesIn, "buy_shares", "Buy shares in an asset's sale"),
    ("transfer-shares", "prepareTransferShares", TransferSharesIn, "transfer_shares", "Transfer shares"),
    ("approve", "prepareApprove", ApproveIn, "approve", "Approve a spender (ERC-20)"),
):
    _prepare_route(_path, _op, _model, _method, _summary)


@router.post(
    "/transactions/prepare/permit", operation_id="preparePermit", response_model=PreparedPermit, tags=["transactions"]
)
def prepare_permit(request: Request, s: S, svc: Svc, caller: Caller, body: PermitIn, key: IdempotencyKey = None) -> Any:
    """EIP-2612 permit typed data for the owner to sign (gasless approval)."""
    return _once(request, s, caller, key, body, lambda: svc.writes.permit(s, body))


@router.post(
    "/transactions/prepare/authorization",
    operation_id="prepareAuthorization",
    response_model=PreparedAuthorization,
    tags=["transactions"],
)
def prepare_authorization(
    request: Request, s: S, svc: Svc, caller: Caller, body: AuthorizationIn, key: IdempotencyKey = None
) -> Any:
    """EIP-3009 ReceiveWithAuthorization typed data for the owner to sign: the PaymentRouter takes the payment and
    acts (open or extend a lease, buy shares, supply) in one transaction."""
    return _once(request, s, caller, key, body, lambda: svc.writes.authorization(body))


@router.post(
    "/transactions",
    operation_id="relayTransaction",
    response_model=TransactionStatus,
    status_code=202,
    tags=["transactions"],
)
def relay(request: Request, s: S, svc: Svc, caller: Signed, body: RelayIn, key: IdempotencyKey = None) -> Any:
    """Relays a signed transaction to the node (only for this chain and the protocol's contracts)."""
    return _once(request, s, caller, key, body, lambda: svc.writes.relay(s, body, caller.credential), 202)


@router.get(
    "/transactions/{tx_hash}", operation_id="getTransaction", response_model=TransactionStatus, tags=["transactions"]
)
def get_transaction(s: S, svc: Svc, tx_hash: str) -> TransactionStatus:
    if not HASH.match(tx_hash) or not tx_hash.startswith("0x"):
        raise Problem(422, "invalid_hash", "a 0x-prefixed 32-byte transaction hash", "tx_hash")
    return svc.writes.status(s, tx_hash)
