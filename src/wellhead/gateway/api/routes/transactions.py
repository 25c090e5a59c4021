"""Transactions without custody: prepared for the client to sign, relayed once signed, followed to their
confirmation."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from wellhead.gateway.deps import Caller, IdempotencyKey, S, Signed, Svc, once
from wellhead.gateway.problems import Problem
from wellhead.gateway.schemas.common import HASH32
from wellhead.gateway.schemas.transactions import (
    ApproveIn,
    AuthorizationIn,
    BuySharesIn,
    ClaimRefundIn,
    ClaimRevenueIn,
    ExtendLeaseIn,
    LeaseIn,
    NavUpdateIn,
    OpenLeaseIn,
    PermitIn,
    PreparedAuthorization,
    PreparedPermit,
    PreparedTransaction,
    RelayIn,
    SettleIn,
    TransactionStatus,
    TransferSharesIn,
)

router = APIRouter(prefix="/transactions", tags=["transactions"])
M = TypeVar("M", bound=BaseModel)


def _prepare_route(path: str, op: str, model: type[M], method: str, summary: str) -> None:
    def endpoint(request: Request, s: S, svc: Svc, caller: Caller, body: Any, key: IdempotencyKey = None) -> Any:
        return once(request, s, caller, key, body, lambda: getattr(svc.writes, method)(s, body))

    endpoint.__annotations__["body"] = model
    router.add_api_route(
        f"/prepare/{path}",
        endpoint,
        methods=["POST"],
        operation_id=op,
        response_model=PreparedTransaction,
        summary=summary,
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
    ("settle", "prepareSettle", SettleIn, "settle", "Settle an asset's epochs that can settle now (anyone)"),
    ("nav-update", "prepareNavUpdate", NavUpdateIn, "nav_update", "Record an asset's NAV round (anyone)"),
):
    _prepare_route(_path, _op, _model, _method, _summary)


@router.post("/prepare/permit", operation_id="preparePermit", response_model=PreparedPermit)
def prepare_permit(request: Request, s: S, svc: Svc, caller: Caller, body: PermitIn, key: IdempotencyKey = None) -> Any:
    """EIP-2612 permit typed data for the owner to sign (gasless approval)."""
    return once(request, s, caller, key, body, lambda: svc.writes.permit(s, body))


@router.post(
    "/prepare/authorization",
    operation_id="prepareAuthorization",
    response_model=PreparedAuthorization,
)
def prepare_authorization(
    request: Request, s: S, svc: Svc, caller: Caller, body: AuthorizationIn, key: IdempotencyKey = None
) -> Any:
    """EIP-3009 ReceiveWithAuthorization typed data for the owner to sign: the PaymentRouter takes the payment and
    acts (open or extend a lease, buy shares, supply) in one transaction."""
    return once(request, s, caller, key, body, lambda: svc.writes.authorization(body))


@router.post(
    "",
    operation_id="relayTransaction",
    response_model=TransactionStatus,
    status_code=202,
)
def relay(request: Request, s: S, svc: Svc, caller: Signed, body: RelayIn, key: IdempotencyKey = None) -> Any:
    """Relays a signed transaction to the node (only for this chain and the protocol's contracts)."""
    return once(request, s, caller, key, body, lambda: svc.relay.relay(s, body, caller.credential), 202)


@router.get("/{tx_hash}", operation_id="getTransaction", response_model=TransactionStatus)
def get_transaction(
    s: S,
    svc: Svc,
    tx_hash: Annotated[str, Path(json_schema_extra={"pattern": r"^0x[0-9a-fA-F]{64}$"})],
) -> TransactionStatus:
    if not HASH32.match(tx_hash) or not tx_hash.startswith("0x"):
        raise Problem(422, "invalid_hash", "a 0x-prefixed 32-byte transaction hash", "tx_hash")
    return svc.relay.status(s, tx_hash)
