"""Credit markets: each listed asset's risk parameters, caps and feed; the BTC market; liquidations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from wellhead.gateway.schemas.common import Amount


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
