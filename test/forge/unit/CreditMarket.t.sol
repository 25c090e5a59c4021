// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {CreditMarket} from "../../../contracts/CreditMarket.sol";
import {NavOracleFactory} from "../../../contracts/NavOracleFactory.sol";
import {AssetStatus} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {CollateralParams, ICreditMarket, Position, RateCurve} from "../../../contracts/interfaces/ICreditMarket.sol";
import {ILendingPool} from "../../../contracts/interfaces/ILendingPool.sol";
import {INavOracle} from "../../../contracts/interfaces/INavOracle.sol";
import {CreditFixture} from "../utils/CreditFixture.sol";

contract CreditMarketTest is CreditFixture {
    /// @dev 30 settled epochs with the asset fully leased: the feed is seasoned and its last four windows
    ///      are fully leased; the lending price is about 1.4 USDC a share (six windows of revenue).
    function priced() internal returns (uint256 price) {
        earn(1_000, SEASONED + NAV_WINDOW);
        bool seasoned;
        (price,,, seasoned) = nav.lendingPrice();
        assertTrue(seasoned, "seasoned");
    }

    // ---------------------------------------------------------------- listing

    function test_list_Guards() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, lender, credit.LISTER_ROLE()
            )
        );
        vm.prank(lender);
        credit.listCollateral(assetId, collateralParams(), caps());
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditAlreadyListed.selector, assetId));
        vm.prank(admin);
        credit.listCollateral(assetId, collateralParams(), caps());
        CreditMarket fresh = new CreditMarket(admin, registry, new NavOracleFactory(registry), rateCurve(), 0, "c", "c");
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditNoFeed.selector, assetId));
        vm.prank(admin);
        fresh.listCollateral(assetId, collateralParams(), caps());
    }

    function test_list_RevertWhen_ParamsUnsafe() public {
        CreditMarket fresh = new CreditMarket(admin, registry, navFactory, rateCurve(), 0, "c", "c");
        CollateralParams[6] memory bad = [
            CollateralParams({
                ltvBps: 0, liquidationThresholdBps: 7_000, liquidationBonusBps: 800, closeFactorBps: 5_000
            }),
            CollateralParams({
                    ltvBps: 7_000, liquidationThresholdBps: 7_000, liquidationBonusBps: 800, closeFactorBps: 5_000
                }),
            CollateralParams({
                ltvBps: 5_000, liquidationThresholdBps: 7_000, liquidationBonusBps: 0, closeFactorBps: 5_000
            }),
            CollateralParams({
                ltvBps: 5_000, liquidationThresholdBps: 7_000, liquidationBonusBps: 2_001, closeFactorBps: 5_000
            }),
            // 95 % x 1.08 > 1: a liquidation would leave the position less healthy
            CollateralParams({
                ltvBps: 5_000, liquidationThresholdBps: 9_500, liquidationBonusBps: 800, closeFactorBps: 5_000
            }),
            CollateralParams({
                ltvBps: 5_000, liquidationThresholdBps: 7_000, liquidationBonusBps: 800, closeFactorBps: 999
            })
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditInvalidCollateralParams.selector, bad[i]));
            vm.prank(admin);
            fresh.listCollateral(assetId, bad[i], caps());
        }
    }

    function test_constructor_RevertWhen_CurveInvalid() public {
        RateCurve memory c = RateCurve({baseBps: 200, kinkBps: 10_000, slope1Bps: 1_000, slope2Bps: 10_000});
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditInvalidRateCurve.selector, c));
        new CreditMarket(admin, registry, navFactory, c, 0, "c", "c");
    }

    function test_unlistedAsset_Reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditAssetNotListed.selector, 7));
        vm.prank(borrower);
        credit.depositCollateral(7, 1e18, borrower);
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditAssetNotListed.selector, 7));
        vm.prank(borrower);
        credit.borrow(7, 100 * USDC, borrower);
    }

    function test_views_AndInterfaces() public {
        assertEq(credit.feedOf(assetId), address(nav), "the asset's feed");
        assertEq(credit.feedOf(7), address(0), "none for an unlisted asset");
        assertTrue(credit.supportsInterface(type(ICreditMarket).interfaceId), "ICreditMarket");
        assertTrue(credit.supportsInterface(type(IAccessControl).interfaceId), "AccessControl");
        assertEq(credit.borrowRatePerSecond(), uint256(200) * 1e18 / 10_000 / 365 days, "2 % a year when idle");
        vm.expectRevert(ILendingPool.CreditZeroAmount.selector);
        depositCollateral(0);
    }

    /// @dev Above the kink the steep slope applies: at 90 % utilization, 2 % + 10 % + 100 % x (10 / 20).
    function test_rate_SteepAboveKink() public {
        priced();
        depositCollateral(600e18);
        vm.prank(lender);
        credit.withdraw(700 * USDC, lender, lender); // 300 USDC left in the pool
        borrow(270 * USDC);
        assertEq(credit.utilizationBps(), 9_000, "90 % lent");
        assertEq(credit.borrowRatePerSecond(), uint256(6_200) * 1e18 / 10_000 / 365 days, "62 % a year");
    }

    // ---------------------------------------------------------------- lenders

    function test_vault_MintAndMaxRedeem() public {
        vm.prank(lender);
        uint256 assets = credit.mint(1_000e12, lender); // 1e6 vault shares a unit while no interest has accrued
        assertEq(assets, 1_000 * USDC, "assets for the shares minted");
        priced();
        depositCollateral(100e18);
        borrow(50 * USDC);
        assertEq(credit.maxRedeem(lender), 1_950e12, "only what the idle liquidity covers");
    }

    function test_vault_WithdrawOnlyIdle() public {
        priced();
        depositCollateral(100e18);
        borrow(40 * USDC);
        assertEq(credit.maxWithdraw(lender), 960 * USDC, "only the idle part");
        vm.expectRevert(
            abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxWithdraw.selector, lender, 960 * USDC + 1, 960 * USDC)
        );
        vm.prank(lender);
        credit.withdraw(960 * USDC + 1, lender, lender);
        vm.prank(lender);
        credit.withdraw(960 * USDC, lender, lender);
        assertEq(credit.idle(), 0, "drained");
        assertEq(credit.totalAssets(), 40 * USDC, "the loan remains");
        assertEq(IERC4626(address(credit)).asset(), address(usdc), "an ERC-4626 vault of the stablecoin");
    }

    function test_interest_AccruesPerSecondOnUtilization() public {
        priced();
        depositCollateral(600e18);
        borrow(400 * USDC);
        assertEq(credit.utilizationBps(), 4_000, "40 % lent");
        // 2 % + 10 % x (40 % / 80 %) = 7 % a year
        vm.warp(block.timestamp + 365 days);
        uint256 debt = credit.debtOf(assetId, borrower);
        assertApproxEqAbs(debt, 428 * USDC, USDC / 100, "7 % of 400 in a year");
        assertApproxEqAbs(credit.totalAssets(), SUPPLY + debt - 400 * USDC, 1, "lenders earn the interest");
        uint256 quarter = credit.balanceOf(lender) / 4;
        vm.prank(lender);
        uint256 back = credit.redeem(quarter, lender, lender);
        assertApproxEqAbs(back, (SUPPLY + debt - 400 * USDC) / 4, 1, "a quarter of the vault, interest included");
    }

    // ---------------------------------------------------------------- borrowing

    function test_borrow_UpToLtv() public {
        uint256 price = priced();
        depositCollateral(100e18);
        uint256 maxDebt = 100 * price / 2;
        assertEq(credit.borrowCapacity(assetId, borrower), maxDebt, "50 % of the collateral's value");
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditExceedsLtv.selector, maxDebt + 1, maxDebt));
        borrow(maxDebt + 1);
        vm.expectEmit(true, true, true, false, address(credit));
        emit ICreditMarket.Borrowed(assetId, borrower, borrower, maxDebt, 0);
        borrow(maxDebt);
        assertEq(usdc.balanceOf(borrower), 1_000_000 * USDC + maxDebt, "paid out");
        assertEq(credit.debtOf(assetId, borrower), maxDebt, "owed");
        assertEq(credit.healthFactor(assetId, borrower), 1.4e18, "70 % / 50 %");
    }

    function test_borrow_RevertWhen_BadInput() public {
        priced();
        vm.expectRevert(ILendingPool.CreditZeroAmount.selector);
        borrow(0);
        depositCollateral(100e18);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditDebtBelowMinimum.selector, MIN_DEBT - 1, MIN_DEBT));
        borrow(MIN_DEBT - 1);
        borrow(MIN_DEBT); // the minimum itself is allowed
        vm.prank(lender);
        credit.withdraw(SUPPLY - 50 * USDC, lender, lender);
        vm.expectRevert(
            abi.encodeWithSelector(ILendingPool.CreditInsufficientLiquidity.selector, 49 * USDC + 1, 49 * USDC)
        );
        borrow(49 * USDC + 1);
    }

    function test_borrow_PausedWhenFeedStale() public {
        priced(); // epochs 0..29 final
        depositCollateral(600e18);
        vm.warp(epochStart(29 + NAV_STALE + 1));
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditFeedStale.selector, assetId, 29));
        borrow(10 * USDC);
        assertEq(credit.borrowCapacity(assetId, borrower), 0, "no capacity on a stale feed");
        // finalizing (anyone may, past the report deadline) resumes borrowing: the market records the
        // newest round itself
        uint256 rounds = nav.roundCount();
        market.finalizeEpochs(assetId, 10);
        borrow(10 * USDC);
        assertEq(nav.roundCount(), rounds + 1, "the borrow recorded the newest round");
    }

    function test_borrow_PausedWhenAssetPaused() public {
        priced();
        depositCollateral(100e18);
        vm.prank(operator);
        registry.setStatus(assetId, AssetStatus.Paused);
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditAssetNotActive.selector, assetId));
        borrow(10 * USDC);
    }

    function test_borrow_RevertWhen_FeedHasNoRound() public {
        depositCollateral(100e18);
        vm.expectRevert(abi.encodeWithSelector(INavOracle.NavNoRounds.selector, assetId));
        borrow(10 * USDC);
    }

    function test_withdrawCollateral_KeepsWithinLtv() public {
        uint256 price = priced();
        depositCollateral(600e18);
        borrow(100 * USDC);
        uint256 keep = 200 * USDC * 1e18 / price + 1; // collateral whose half-value covers the debt
        uint256 free = 600e18 - keep;
        uint256 maxDebt = keep * price / 1e18 / 2;
        vm.expectRevert(
            abi.encodeWithSelector(ILendingPool.CreditExceedsLtv.selector, 100 * USDC, (keep - 1e15) * price / 1e18 / 2)
        );
        vm.prank(borrower);
        credit.withdrawCollateral(assetId, free + 1e15, borrower);
        vm.prank(borrower);
        credit.withdrawCollateral(assetId, free, borrower);
        assertEq(credit.positionOf(assetId, borrower).collateral, keep, "kept");
        assertGe(maxDebt, 100 * USDC, "still within LTV");
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditInsufficientCollateral.selector, 700e18, keep));
        vm.prank(borrower);
        credit.withdrawCollateral(assetId, 700e18, borrower);
        vm.expectRevert(ILendingPool.CreditZeroAmount.selector);
        vm.prank(borrower);
        credit.withdrawCollateral(assetId, 0, borrower);
    }

    function test_repay_PartialFullAndGuards() public {
        priced();
        depositCollateral(100e18);
        borrow(10 * USDC);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditRepayExceedsDebt.selector, 10 * USDC + 1, 10 * USDC));
        vm.prank(borrower);
        credit.repay(assetId, 10 * USDC + 1, borrower);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditDebtBelowMinimum.selector, MIN_DEBT - 1, MIN_DEBT));
        vm.prank(borrower);
        credit.repay(assetId, 9 * USDC + 1, borrower);
        vm.prank(liquidator); // anyone may repay for a borrower; leaving exactly the minimum is allowed
        credit.repay(assetId, 9 * USDC, borrower);
        assertEq(credit.debtOf(assetId, borrower), MIN_DEBT, "partly repaid");
        vm.prank(borrower);
        uint256 repaid = credit.repay(assetId, type(uint256).max, borrower);
        assertEq(repaid, MIN_DEBT, "the rest");
        assertEq(credit.debtOf(assetId, borrower), 0, "clear");
        assertEq(credit.totalBorrowed(), 0, "nothing lent");
        assertEq(credit.idle(), SUPPLY, "all back");
        vm.prank(borrower);
        credit.withdrawCollateral(assetId, 100e18, borrower); // no debt: no price needed
    }

    // ---------------------------------------------------------------- revenue

    function test_revenue_RepaysDebtFirst() public {
        priced();
        depositCollateral(600e18);
        borrow(200 * USDC);
        uint256 distributed = shares.totalDistributed();
        runEpochs(2, 10_000);
        uint256 earned = (shares.totalDistributed() - distributed) * 600 / 1_000;
        uint256 owedWithInterest = credit.totalBorrowed(); // the only loan, revenue not applied yet
        uint256 predicted = credit.debtOf(assetId, borrower);
        assertApproxEqAbs(predicted, owedWithInterest - earned, 2, "the view counts revenue not yet applied");
        vm.expectEmit(true, true, false, false, address(credit));
        emit ICreditMarket.RevenueApplied(assetId, borrower, earned, earned);
        credit.settle(assetId, borrower);
        assertApproxEqAbs(credit.debtOf(assetId, borrower), predicted, 1, "60 % of the holders' revenue repaid it");
        assertApproxEqAbs(credit.totalBorrowed(), owedWithInterest - earned, 2, "the pool's debt fell as much");
        assertEq(credit.positionOf(assetId, borrower).surplus, 0, "no surplus while in debt");
    }

    function test_revenue_SurplusAfterDebt() public {
        priced();
        depositCollateral(600e18);
        borrow(MIN_DEBT);
        uint256 distributed = shares.totalDistributed();
        runEpochs(5, 10_000);
        uint256 earned = (shares.totalDistributed() - distributed) * 600 / 1_000;
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditNothingToClaim.selector, assetId, lender));
        vm.prank(lender);
        credit.claimSurplus(assetId, lender);
        vm.prank(borrower);
        uint256 surplus = credit.claimSurplus(assetId, borrower);
        assertEq(credit.debtOf(assetId, borrower), 0, "debt repaid from revenue");
        // the rest is the borrower's, less a few hours' interest on 10 USDC (about 0.0001 USDC)
        assertLe(surplus, earned - MIN_DEBT, "at most revenue minus the debt");
        assertGe(surplus, earned - MIN_DEBT - 1_000, "the rest is the borrower's");
        assertEq(
            usdc.balanceOf(address(credit)),
            credit.idle() + credit.collateralRevenue(assetId).unallocated,
            "all accounted"
        );
    }

    // ---------------------------------------------------------------- liquidation

    /// @dev 100 shares, all their capacity borrowed; then nine epochs without delivery: the newest window is
    ///      worth nothing and the one before a quarter, so the mean of four is about 0.56 of what it was:
    ///      health 1.4 x 0.56, unhealthy but not insolvent.
    function shortfall() internal returns (uint256 price) {
        priced();
        depositCollateral(100e18);
        borrow(credit.borrowCapacity(assetId, borrower));
        runEpochs(NAV_WINDOW + 3, 0);
        (price,,,) = nav.lendingPrice();
        credit.settle(assetId, borrower);
    }

    function test_liquidate_RevertWhen_Healthy() public {
        priced();
        depositCollateral(100e18);
        borrow(credit.borrowCapacity(assetId, borrower));
        uint256 hf = credit.healthFactor(assetId, borrower);
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditPositionHealthy.selector, assetId, borrower, hf));
        vm.prank(liquidator);
        credit.liquidate(assetId, borrower, 10 * USDC, liquidator);
        vm.expectRevert(
            abi.encodeWithSelector(ICreditMarket.CreditPositionHealthy.selector, assetId, lender, type(uint256).max)
        );
        vm.prank(liquidator);
        credit.liquidate(assetId, lender, 10 * USDC, liquidator);
    }

    function test_liquidate_AfterSlaShortfall() public {
        uint256 price = shortfall();
        uint256 hf = credit.healthFactor(assetId, borrower);
        assertLt(hf, 1e18, "unhealthy");
        uint256 debt = credit.debtOf(assetId, borrower);
        uint256 maxRepay = (debt + 1) / 2; // the close factor's half, rounded up
        vm.expectRevert(ILendingPool.CreditZeroAmount.selector);
        vm.prank(liquidator);
        credit.liquidate(assetId, borrower, 0, liquidator);

        uint256 paidBefore = usdc.balanceOf(liquidator);
        vm.prank(liquidator);
        uint256 seized = credit.liquidate(assetId, borrower, type(uint256).max, liquidator); // the most allowed
        assertEq(usdc.balanceOf(liquidator), paidBefore - maxRepay, "liquidator paid half the debt");
        assertEq(shares.balanceOf(liquidator), seized, "and took the collateral");
        assertEq(seized, maxRepay * 10_800 * 1e18 / (price * 10_000), "repaid x 1.08 at the NAV");
        assertLe(seized * price / 1e18, maxRepay * 10_800 / 10_000, "never more than repaid x (1 + bonus)");
        assertGt(credit.healthFactor(assetId, borrower), hf, "healthier afterwards");
        assertEq(credit.badDebt(), 0, "no bad debt");
    }

    /// @dev At a zero price the liquidator takes all the collateral for nothing and the lenders write the
    ///      whole debt off (Morpho Blue's rule): pinned here.
    function test_liquidate_WritesOffBadDebt() public {
        priced();
        depositCollateral(100e18);
        borrow(credit.borrowCapacity(assetId, borrower));
        runEpochs(SEASONED, 0); // nothing delivered for K windows: revenue and uptime collapse
        (uint256 price,,,) = nav.lendingPrice();
        assertEq(price, 0, "a window without delivery prices the shares at zero");
        uint256 debt = credit.debtOf(assetId, borrower);
        uint256 value = 100 * price;
        assertLt(value * 10_000, debt * 10_800, "insolvent: the whole debt may be repaid");
        uint256 assetsBefore = credit.totalAssets();
        vm.prank(liquidator);
        uint256 seized = credit.liquidate(assetId, borrower, debt, liquidator);
        assertEq(seized, 100e18, "all the collateral");
        uint256 repaid = (value * 10_000 + 10_799) / 10_800; // what it is worth at the discount, rounded up
        assertEq(credit.badDebt(), debt - repaid, "the rest is written off");
        assertEq(credit.debtOf(assetId, borrower), 0, "position closed");
        assertEq(credit.totalAssets(), assetsBefore - (debt - repaid), "lenders bear the loss");
    }

    // ---------------------------------------------------------------- fuzz

    /// @dev Any amount up to the borrow capacity can be borrowed; a unit more cannot.
    function testFuzz_borrow_CapacityIsExact(uint256 collateral, uint256 amount) public {
        uint256 price = priced();
        collateral = bound(collateral, 10e18, 600e18);
        depositCollateral(collateral);
        uint256 capacity = credit.borrowCapacity(assetId, borrower);
        assertEq(capacity, Math.min(collateral * price / 1e18 / 2, SUPPLY), "min(50 % of value, liquidity)");
        amount = bound(amount, MIN_DEBT, capacity);
        borrow(amount);
        assertEq(credit.debtOf(assetId, borrower), amount, "owed");
        uint256 left = credit.borrowCapacity(assetId, borrower);
        if (left == 0 && capacity < SUPPLY) {
            vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditExceedsLtv.selector, amount + 1, amount));
            borrow(1);
        }
    }

    /// @dev Whatever is repaid, the collateral taken is worth at most repaid x 1.08, and the position is
    ///      not left less healthy (beyond a rounding unit of debt: a repayment of a few base units can
    ///      burn debt shares worth a unit less than it, since debt shares are burned rounded down).
    function testFuzz_liquidate_SeizeBounded(uint256 repayAmount) public {
        uint256 price = shortfall();
        uint256 hf = credit.healthFactor(assetId, borrower);
        uint256 debt = credit.debtOf(assetId, borrower);
        repayAmount = bound(repayAmount, 1, (debt + 1) / 2);
        uint256 paid = usdc.balanceOf(liquidator);
        vm.prank(liquidator);
        uint256 seized = credit.liquidate(assetId, borrower, repayAmount, liquidator);
        uint256 repaid = paid - usdc.balanceOf(liquidator);
        assertEq(repaid, repayAmount, "repaid what was asked");
        assertLe(seized * price / 1e18, repaid * 10_800 / 10_000, "seized <= repaid x (1 + bonus)");
        uint256 after_ = credit.healthFactor(assetId, borrower);
        if (repaid >= USDC) assertGe(after_, hf, "no less healthy");
        else assertGe(after_ + hf / debt + 1, hf, "worse by at most a unit of debt");
    }
}
