"""Borrowing against capacity shares on a real node: NAV feed, CreditMarket, revenue, liquidation."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3.logs import DISCARD

from tests.support.chain import Desk
from wellhead.chain.client import Protocol, send
from wellhead.core.constants import WAD
from wellhead.core.errors import ContractRevertError
from wellhead.devkit.scenario import Actors, Demo
from wellhead.devkit.scenario.actors import SHARE, USDC


def test_revenue_repays_debt_then_shortfall_liquidation(desk: Desk, w3: Web3, protocol: Protocol) -> None:
    credit = desk.credit.functions
    capacity = credit.borrowCapacity(desk.asset_id, desk.borrower.address).call()
    assert capacity == 200_000 * desk.price() // 2, "50 % of 200,000 shares at the lending price"
    with pytest.raises(ContractRevertError) as over:
        desk.borrow(capacity + 1)
    assert over.value.error == "CreditExceedsLtv"
    assert over.value.error_args == {"debt": capacity + 1, "maxDebt": capacity}
    desk.borrow(capacity * 95 // 100)

    # a healthy epoch: the pledged shares' revenue (20 % of the holders') repays part of the debt
    holders_before = protocol.shares(desk.asset_id).functions.totalDistributed().call()
    desk.epochs(1, 10_000)
    predicted = desk.debt()  # the view already counts the revenue the next settlement applies
    earned = (protocol.shares(desk.asset_id).functions.totalDistributed().call() - holders_before) // 5
    receipt = send(w3, desk.a.lessee_firm, credit.settle(desk.asset_id, desk.borrower.address))
    applied = desk.credit.events.RevenueApplied().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert applied["repaid"] == applied["earned"]
    assert abs(applied["earned"] - earned) <= 2
    # as predicted, give or take the interest of the second between the read and the block
    assert predicted - 2 <= desk.debt() <= predicted + 500
    assert desk.credit.functions.totalBorrowed().call() <= predicted + 500, "the pool's debt fell as much"

    with pytest.raises(ContractRevertError) as healthy:
        send(
            w3,
            desk.a.liquidator,
            credit.liquidate(desk.asset_id, desk.borrower.address, 1_000 * USDC, desk.a.liquidator.address),
        )
    assert healthy.value.error == "CreditPositionHealthy"

    # back to the limit; then an outage: one epoch with nothing delivered pulls the lending price down and
    # the position under water
    desk.borrow(credit.borrowCapacity(desk.asset_id, desk.borrower.address).call())
    price_before = desk.price()
    desk.epochs(1, 0)
    assert desk.price() < price_before * 80 // 100
    health = desk.health()
    assert health < WAD
    debt = desk.debt()
    value = 200_000 * desk.price()
    assert value * 10_000 < debt * 10_800, "insolvent: collateral worth less than debt plus bonus"
    receipt = send(
        w3, desk.a.liquidator, credit.liquidate(desk.asset_id, desk.borrower.address, debt, desk.a.liquidator.address)
    )
    ev = desk.credit.events.Liquidated().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert ev["seized"] == 200_000 * SHARE, "all the collateral"
    assert ev["repaid"] == -(-value * 10_000 // 10_800), "what it is worth at the 8 % discount, rounded up"
    assert abs(ev["badDebt"] - (debt - ev["repaid"])) <= 2, "the rest is written off against the lenders"
    assert protocol.shares(desk.asset_id).functions.balanceOf(desk.a.liquidator.address).call() == ev["seized"]
    assert desk.health() > health, "the liquidation left the position healthier"


def test_stale_feed_stops_borrowing(desk: Desk, w3: Web3) -> None:
    desk.borrow(20 * USDC)
    before = desk.price()
    # four epochs pass and none is settled: the feed (stale after 3) stops new borrowing
    desk.site.warp_to(desk.site.epoch_end(desk.next_epoch + 3) + 1)
    assert desk.nav.functions.isStale().call()
    with pytest.raises(ContractRevertError) as stale:
        desk.borrow(15 * USDC)
    assert stale.value.error == "CreditFeedStale"
    assert stale.value.error_args == {"assetId": desk.asset_id, "lastEpoch": desk.next_epoch - 1}
    # anyone may settle the unreported epochs (nothing delivered) and record the round: the feed is fresh again;
    # the unproven stretch is one window worth nothing, so the mean of K = 2 is at most half what it was
    send(w3, desk.a.liquidator, desk.p.market.functions.finalizeEpochs(desk.asset_id, 10))
    send(w3, desk.a.liquidator, desk.nav.functions.update())
    assert not desk.nav.functions.isStale().call()
    assert 0 < desk.price() <= before // 2 + 1, "the unproven window counts as zero"
    desk.borrow(15 * USDC)


def test_bad_input_named_errors(desk: Desk, w3: Web3, protocol: Protocol) -> None:
    credit = desk.credit.functions
    cases = [
        (credit.borrow(desk.asset_id, 0, desk.borrower.address), "CreditZeroAmount", {}),
        (
            credit.borrow(desk.asset_id, 5 * USDC, desk.borrower.address),
            "CreditDebtBelowMinimum",
            {"debt": 5 * USDC, "minDebt": 10 * USDC},
        ),
        (credit.borrow(999, 100 * USDC, desk.borrower.address), "CreditAssetNotListed", {"assetId": 999}),
        (credit.repay(desk.asset_id, 1, desk.borrower.address), "CreditRepayExceedsDebt", {"amount": 1, "debt": 0}),
    ]
    for fn, name, args in cases:
        with pytest.raises(ContractRevertError) as err:
            send(w3, desk.borrower, fn)
        assert err.value.error == name
        assert err.value.error_args == args


def test_demo_borrower_is_liquidated_after_the_missing_report(w3: Web3, protocol: Protocol, actors: Actors) -> None:
    c = Demo(w3, protocol, actors).run().credit
    assert c.nav[4] < c.nav[3], "the unreported epoch lowers the NAV"
    assert c.lending[4] < c.lending[3], "and the lending price"
    assert c.lending[0] == 0 < c.lending[3], "nothing to lend against until two full windows have settled"
    assert c.health_at_borrow == 175 * WAD // 100, "borrowed four fifths of the 50 % LTV: health 70 / 40"
    assert c.health_before_liquidation < WAD
    assert c.seized > 0 and c.bad_debt == 0
    assert c.seized * c.price_at_liquidation // SHARE <= c.repaid * 10_800 // 10_000
    assert c.health_after > c.health_before_liquidation
