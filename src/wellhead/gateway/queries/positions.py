"""An investor's positions: share holdings from the index, with what only the chain knows now (claimable
revenue, debt with interest, health) read live."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3

from wellhead.chain.artifacts import abi
from wellhead.gateway import db
from wellhead.gateway.schemas.common import BTC_DECIMALS, SHARE_DECIMALS, Amount
from wellhead.gateway.schemas.positions import BtcPositionOut, CreditPositionOut, PositionsOut, SharePosition
from wellhead.gateway.services import Services


def positions(s: Session, svc: Services, who: str) -> PositionsOut:
    """`who`'s share holdings (with live claimable revenue and NAV value) and loans (live debt and health)."""
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
    return PositionsOut(address=who, shares=shares, credit=credit, btc=_btc_position(svc, who))


def _btc_position(svc: Services, who: str) -> BtcPositionOut | None:
    if "BtcCreditMarket" not in svc.deployment.contracts:
        return None
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
