"""An investor's positions: shares, capacity-backed loans, a BTC loan."""

from __future__ import annotations

from pydantic import BaseModel, Field

from wellhead.gateway.schemas.common import Amount


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
