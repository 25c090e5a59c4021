"""The scenario's credit actions: a NAV feed, shares as collateral, a loan and its liquidation; a BTC loan."""

from __future__ import annotations

from web3.logs import DISCARD

from wellhead.chain.client import lending_price, nav_price
from wellhead.devkit.scenario.actors import BTC, SHARE, USDC
from wellhead.devkit.scenario.base import ScenarioBase
from wellhead.devkit.scenario.results import BtcOutcome, DemoResult


class CreditActions(ScenarioBase):
    def open_credit(self, supply: int = 500_000 * USDC) -> None:
        """The operator creates the asset's NAV feed; governance lists the shares as collateral (LTV 50 %,
        liquidation at 70 %, 8 % bonus, half the debt per liquidation; debt capped at `supply`); the lender
        supplies `supply`.

        The feed is sized to the demo's five epochs: 1-epoch windows, so it is seasoned after two full
        windows (K = 2) and lends against at most three windows of revenue (M = 3; LTV x M = 1.5 < K). A
        production feed would use windows of days and a track record of weeks."""
        now = self.w3.eth.get_block("latest")["timestamp"]
        nav_params = (1, 3, now + 3 * 365 * 86_400, 3, 2)  # window, stale after, life end, M, K
        self.send(self.a.operator, self.p.nav_factory.functions.create(self.asset_id, nav_params))
        supply_cap = self.p.shares(self.asset_id).functions.totalSupply().call()
        self.send(
            self.a.admin,
            self.p.credit.functions.listCollateral(self.asset_id, (5_000, 7_000, 800, 5_000), (supply, supply_cap)),
        )
        self.send(self.a.lender, self.p.credit.functions.deposit(supply, self.a.lender.address))

    def update_nav(self, epoch: int, result: DemoResult) -> None:
        """A keeper records the feed's round for the epoch just settled."""
        nav = self.p.nav(self.asset_id)
        self.send(self.a.admin, nav.functions.update())
        result.credit.nav[epoch] = nav_price(nav)
        lending = lending_price(nav)
        result.credit.lending[epoch] = lending.price if lending.seasoned else 0  # a young feed lends nothing

    def borrow(self, result: DemoResult) -> None:
        """Investor A pledges 250,000 shares and borrows four fifths of what it may at the lending price."""
        credit, shares = self.p.credit.functions, self.p.shares(self.asset_id)
        c = result.credit
        c.collateral = 250_000 * SHARE
        self.send(self.a.investor_a, shares.functions.approve(self.p.credit.address, c.collateral))
        borrower = self.a.investor_a.address
        self.send(self.a.investor_a, credit.depositCollateral(self.asset_id, c.collateral, borrower))
        # four fifths of what it may: the missing report then leaves it under water, but not insolvent
        c.borrowed = credit.borrowCapacity(self.asset_id, borrower).call() * 4 // 5
        self.send(self.a.investor_a, credit.borrow(self.asset_id, c.borrowed, borrower))
        c.price_at_borrow = lending_price(self.p.nav(self.asset_id)).price
        c.health_at_borrow = credit.healthFactor(self.asset_id, borrower).call()

    def liquidate(self, result: DemoResult) -> None:
        """If the NAV fell far enough, the liquidator repays what one liquidation may and takes collateral."""
        credit, c = self.p.credit.functions, result.credit
        borrower = self.a.investor_a.address
        self.send(self.a.liquidator, credit.settle(self.asset_id, borrower))
        c.health_before_liquidation = credit.healthFactor(self.asset_id, borrower).call()
        c.price_at_liquidation = lending_price(self.p.nav(self.asset_id)).price
        if c.health_before_liquidation >= 10**18:
            c.health_after = c.health_before_liquidation
            return
        debt = credit.debtOf(self.asset_id, borrower).call()
        value = c.collateral * c.price_at_liquidation // SHARE
        _, _, bonus, close = credit.collateralParams(self.asset_id).call()
        insolvent = value * 10_000 < debt * (10_000 + bonus)
        repay = debt if insolvent else debt * close // 10_000
        receipt = self.send(
            self.a.liquidator, credit.liquidate(self.asset_id, borrower, repay, self.a.liquidator.address)
        )
        ev = self.p.credit.events.Liquidated().process_receipt(receipt, errors=DISCARD)[0]["args"]
        c.repaid, c.seized, c.bad_debt = ev["repaid"], ev["seized"], ev["badDebt"]
        c.health_after = credit.healthFactor(self.asset_id, borrower).call()

    def btc_loan(self, b: BtcOutcome, pledged: int = 10 * BTC, drop_to: int = 48_000 * 10**8) -> None:
        """The operator, a former bitcoin miner, pledges `pledged` wrapped BTC and borrows about two thirds of its
        value to pay for GPUs; the BTC / USD feed then falls to `drop_to` (8 decimals) and a liquidator repays
        what one liquidation may, taking BTC at a 5 % bonus."""
        btc, coin = self.p.btc_credit, self.p.stablecoin.functions
        lender, miner, liquidator = self.a.lender, self.a.operator, self.a.liquidator
        b.supplied = 500_000 * USDC
        for who in (lender, miner, liquidator):
            self.send(who, coin.approve(btc.address, 2**256 - 1))
        self.send(lender, btc.functions.deposit(b.supplied, lender.address))
        self.send(self.a.admin, self.p.wbtc.functions.mint(miner.address, pledged))
        self.send(miner, self.p.wbtc.functions.approve(btc.address, pledged))
        self.send(self.a.admin, self.p.btc_usd.functions.setAnswer(60_000 * 10**8))  # a fresh round now
        self.send(miner, btc.functions.supplyCollateral(pledged, miner.address))
        b.pledged = pledged
        b.price_at_borrow, _usable = btc.functions.price().call()
        b.borrowed = pledged * b.price_at_borrow // BTC * 2 // 3 // USDC * USDC  # two thirds, whole dollars
        self.send(miner, btc.functions.borrow(b.borrowed, miner.address))
        b.health_at_borrow = btc.functions.healthFactor(miner.address).call()
        self.send(self.a.admin, self.p.btc_usd.functions.setAnswer(drop_to))
        b.price_after_drop, _usable = btc.functions.price().call()
        b.health_after_drop = btc.functions.healthFactor(miner.address).call()
        if b.health_after_drop >= 10**18:
            b.health_after = b.health_after_drop
            return
        receipt = self.send(liquidator, btc.functions.liquidate(miner.address, 2**256 - 1, liquidator.address))
        ev = btc.events.Liquidated().process_receipt(receipt, errors=DISCARD)[0]["args"]
        b.repaid, b.seized, b.bad_debt = ev["repaid"], ev["seized"], ev["badDebt"]
        b.debt_after = btc.functions.debtOf(miner.address).call(block_identifier=receipt["blockNumber"])
        b.health_after = btc.functions.healthFactor(miner.address).call()
