"""Credit markets, live from the chain (risk parameters, caps, feeds, liquidity), and indexed liquidations."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from wellhead.chain.artifacts import abi
from wellhead.gateway import db
from wellhead.gateway.schemas.common import BTC_DECIMALS, SHARE_DECIMALS, Amount
from wellhead.gateway.schemas.credit import BtcMarketOut, CapacityCreditOut, CapsOut, FeedTrackRecordOut, LiquidationOut
from wellhead.gateway.services import Services


def capacity_credit(w3: Web3, market: Any, asset_id: int, feed_address: str) -> CapacityCreditOut:
    """The asset's listing: risk parameters, caps and their use, and its NAV feed's track record."""
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


def btc_market(svc: Services) -> BtcMarketOut | None:
    """The BTC market's feed, caps, liquidity and grace; None where the deployment has none."""
    if "BtcCreditMarket" not in svc.deployment.contracts:
        return None

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


def liquidation_out(r: db.ChainEvent) -> LiquidationOut:
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
