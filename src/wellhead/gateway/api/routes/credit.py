"""Credit: the markets' parameters and state, and the liquidations they have seen."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select
from web3 import Web3

from wellhead.chain.artifacts import abi
from wellhead.gateway import db
from wellhead.gateway.api.paging import Cursor, Limit, json_response, paginate
from wellhead.gateway.deps import S, Svc
from wellhead.gateway.queries.credit import btc_market, capacity_credit, liquidation_out
from wellhead.gateway.schemas.common import Page
from wellhead.gateway.schemas.credit import CapacityCreditOut, CreditMarketsOut, LiquidationOut

router = APIRouter(prefix="/credit", tags=["credit"])


@router.get("/markets", operation_id="getCreditMarkets", response_model=CreditMarketsOut)
def get_credit_markets(s: S, svc: Svc) -> Response:
    """Every listed asset's risk parameters, caps and their use, and its feed's track record; the BTC market's
    feed, caps, liquidity and grace. Live from the chain."""
    capacity: list[CapacityCreditOut] = []
    if "CreditMarket" in svc.deployment.contracts:
        market = svc.w3.eth.contract(
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
            capacity.append(capacity_credit(svc.w3, market, int(event.args["assetId"]), event.args["feed"]))
    return json_response(CreditMarketsOut(capacity=capacity, btc=btc_market(svc)))


@router.get("/liquidations", operation_id="listLiquidations", response_model=Page[LiquidationOut])
def list_liquidations(s: S, limit: Limit = 100, cursor: Cursor = None) -> Response:
    q = select(db.ChainEvent).where(
        db.ChainEvent.contract.in_(("CreditMarket", "BtcCreditMarket")), db.ChainEvent.name == "Liquidated"
    )
    return paginate(s, q, db.ChainEvent.id, limit, cursor, lambda rows: [liquidation_out(r) for r in rows])
