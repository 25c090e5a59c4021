"""Borrowing against capacity shares on a real node: NAV feed, CreditMarket, revenue, liquidation."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3.logs import DISCARD

from tests.helpers import SHARE, USDC, Desk
from wellhead.chain.client import Protocol, send
from wellhead.demo import Actors, Demo
from wellhead.errors import ContractRevertError

WAD = 10**18


@pytest.fixture
def desk(w3: Web3, protocol: Protocol, actors: Actors) -> Desk:
    d = Desk(w3, protocol, actors)
    d.epochs(3, 10_000)
    shares = protocol.shares(d.asset_id).functions
    send(w3, d.borrower, shares.approve(protocol.credit.address, 2**256 - 1))
    send(w3, d.borrower, d.credit.functions.depositCollateral(d.asset_id, 20_000 * SHARE, d.borrower.address))
    return d


def test_revenue_repays_debt_then_shortfall_liquidation(desk: Desk, w3: Web3, protocol: Protocol) -> None:
    credit = desk.credit.functions
    capacity = credit.borrowCapacity(desk.asset_id, desk.borrower.address).call()
    assert capacity == 20_000 * desk.price() // 2, "50 % of 20,000 shares at the NAV"
    with pytest.raises(ContractRevertError) as over:
        desk.borrow(capacity + 1)
    assert over.value.error == "CreditExceedsLtv"
    assert over.value.error_args == {"debt": capacity + 1, "maxDebt": capacity}
    desk.borrow(capacity * 95 // 100)

    # three healthy epochs: the pledged shares' revenue (2 % of the holders') repays the debt
    holders_before = protocol.shares(desk.asset_id).functions.totalDistributed().call()
    desk.epochs(3, 10_000)
    predicted = desk.debt()  # the view already counts the revenue the next settlement applies
    earned = (protocol.shares(desk.asset_id).functions.totalDistributed().call() - holders_before) // 50
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

    # an SLA shortfall: seven epochs at 40 % uptime pull the NAV down and the position under water
    price_before = desk.price()
    desk.epochs(7, 4_000)
    assert desk.price() < price_before * 80 // 100
    health = desk.health()
    assert health < WAD
    debt = desk.debt()
    repay = debt // 2
    receipt = send(
        w3, desk.a.liquidator, credit.liquidate(desk.asset_id, desk.borrower.address, repay, desk.a.liquidator.address)
    )
    ev = desk.credit.events.Liquidated().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert ev["repaid"] == repay and ev["badDebt"] == 0
    assert ev["seized"] == repay * 10_800 * SHARE // (desk.price() * 10_000)
    assert protocol.shares(desk.asset_id).functions.balanceOf(desk.a.liquidator.address).call() == ev["seized"]
    assert desk.health() > health, "the liquidation left the position healthier"


def test_stale_feed_stops_borrowing(desk: Desk, w3: Web3) -> None:
    desk.borrow(10_000 * USDC)
    # four epochs pass and none is settled: the feed (stale after 3) stops new borrowing
    desk.site.warp_to(desk.site.epoch_end(desk.next_epoch + 3) + 1)
    assert desk.nav.functions.isStale().call()
    with pytest.raises(ContractRevertError) as stale:
        desk.borrow(1_000 * USDC)
    assert stale.value.error == "CreditFeedStale"
    assert stale.value.error_args == {"assetId": desk.asset_id, "lastEpoch": desk.next_epoch - 1}
    # anyone may settle the unreported epochs (nothing delivered) and update the feed: borrowing resumes
    send(w3, desk.a.liquidator, desk.p.market.functions.finalizeEpochs(desk.asset_id, 10))
    send(w3, desk.a.liquidator, desk.nav.functions.update())
    assert not desk.nav.functions.isStale().call()
    desk.borrow(1_000 * USDC)


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
    assert c.health_at_borrow == 14 * WAD // 10, "borrowed at the 50 % LTV: health 70 / 50"
    assert c.health_before_liquidation < WAD
    assert c.seized > 0 and c.bad_debt == 0
    assert c.seized * c.price_at_liquidation // SHARE <= c.repaid * 10_800 // 10_000
    assert c.health_after > c.health_before_liquidation
