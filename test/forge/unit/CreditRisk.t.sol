// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {CreditMarket} from "../../../contracts/CreditMarket.sol";
import {AssetParams} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {Caps, CollateralParams, ICreditMarket} from "../../../contracts/interfaces/ICreditMarket.sol";
import {ILendingPool} from "../../../contracts/interfaces/ILendingPool.sol";
import {NavParams} from "../../../contracts/interfaces/INavOracle.sol";
import {NavOracleFactory} from "../../../contracts/NavOracleFactory.sol";
import {CreditFixture} from "../utils/CreditFixture.sol";

/// @notice The credit market's defences: what may be listed, caps, a young feed, grace periods, and a
///         vault whose price only interest and losses move.
contract CreditRiskTest is CreditFixture {
    function seasoned() internal returns (uint256 price) {
        earn(1_000, SEASONED + NAV_WINDOW);
        (price,,,) = nav.lendingPrice();
    }

    // ---------------------------------------------------------------- listing

    /// @dev The operator controls a restricted asset's allowlist and could stop the market from ever
    ///      seizing its shares (the operator-borrower's shield): such shares are refused.
    function test_list_RevertWhen_SharesRestricted() public {
        AssetParams memory p = defaultAsset();
        p.restrictedTransfers = true;
        p.sharesSymbol = "whRST";
        vm.prank(operator);
        uint256 restrictedId = registry.registerAsset(p);
        vm.prank(operator);
        navFactory.create(restrictedId, navParams());
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditCollateralNotSeizable.selector, restrictedId));
        vm.prank(admin);
        credit.listCollateral(restrictedId, collateralParams(), caps());
    }

    /// @dev LTV x M must stay below K x 10,000: 6,666 x 6 < 40,000 lists, 6,667 x 6 does not.
    function test_list_RevertWhen_LtvTooHighForTheFeed() public {
        CreditMarket fresh = new CreditMarket(admin, registry, navFactory, rateCurve(), 0, "c", "c");
        CollateralParams memory p = collateralParams();
        p.ltvBps = 6_667;
        vm.expectRevert(
            abi.encodeWithSelector(
                ICreditMarket.CreditLtvTooHighForFeed.selector, 6_667, LENDING_LIFE_WINDOWS, TRACK_RECORD_WINDOWS
            )
        );
        vm.prank(admin);
        fresh.listCollateral(assetId, p, caps());
        p.ltvBps = 6_666;
        vm.prank(admin);
        fresh.listCollateral(assetId, p, caps());
        assertEq(fresh.collateralParams(assetId).ltvBps, 6_666, "below the bound lists");

        // LTV x M == K x 10,000 exactly (50 % x 8 = 4): the bound is strict
        NavOracleFactory factory = new NavOracleFactory(registry);
        NavParams memory n = navParams();
        n.lendingLifeWindows = 8;
        vm.prank(operator);
        factory.create(assetId, n);
        CreditMarket equal = new CreditMarket(admin, registry, factory, rateCurve(), 0, "c", "c");
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditLtvTooHighForFeed.selector, 5_000, 8, 4));
        vm.prank(admin);
        equal.listCollateral(assetId, collateralParams(), caps());
    }

    // ---------------------------------------------------------------- caps

    function test_setCaps_OnlyTheLister() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, operator, credit.LISTER_ROLE()
            )
        );
        vm.prank(operator);
        credit.setCaps(assetId, Caps({borrowCap: 0, supplyCap: 0}));
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditAssetNotListed.selector, 7));
        vm.prank(admin);
        credit.setCaps(7, caps());
    }

    /// @dev The asset's debt may reach its cap exactly, not a unit more; the view says what is left.
    function test_borrow_RevertWhen_OverTheBorrowCap() public {
        seasoned();
        depositCollateral(600e18);
        vm.expectEmit(true, false, false, true, address(credit));
        emit ICreditMarket.CapsSet(assetId, Caps({borrowCap: uint128(50 * USDC), supplyCap: 1_000e18}));
        vm.prank(admin);
        credit.setCaps(assetId, Caps({borrowCap: uint128(50 * USDC), supplyCap: 1_000e18}));
        assertEq(credit.borrowCapacity(assetId, borrower), 50 * USDC, "capped by what the cap leaves");
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditBorrowCapExceeded.selector, 50 * USDC + 1, 50 * USDC));
        borrow(50 * USDC + 1);
        borrow(50 * USDC);
        assertEq(credit.assetDebt(assetId), 50 * USDC, "the asset's debt");
        assertEq(credit.borrowCapacity(assetId, borrower), 0, "nothing left under the cap");
    }

    function test_deposit_RevertWhen_OverTheSupplyCap() public {
        vm.prank(admin);
        credit.setCaps(assetId, Caps({borrowCap: uint128(SUPPLY), supplyCap: 100e18}));
        depositCollateral(60e18);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditSupplyCapExceeded.selector, 100e18 + 1, 100e18));
        depositCollateral(40e18 + 1);
        depositCollateral(40e18);
        assertEq(credit.collateralRevenue(assetId).totalCollateral, 100e18, "exactly the cap");
    }

    // ---------------------------------------------------------------- a young feed

    /// @dev The young-asset wash: one self-leased epoch used to price the shares for a loan. Until K full
    ///      windows have finalized, nothing can be borrowed at all.
    function test_borrow_RevertWhen_FeedYoung() public {
        earn(1_000, SEASONED - 1);
        depositCollateral(600e18);
        (uint256 nav_,,) = nav.latestPrice();
        assertGt(nav_ * 600 / 2, 1_000 * USDC, "the NAV alone would lend the whole pool");
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditFeedYoung.selector, assetId, SEASONED - 2));
        borrow(10 * USDC);
        assertEq(credit.borrowCapacity(assetId, borrower), 0, "no capacity while young");
        runEpochs(1, 10_000);
        borrow(10 * USDC); // seasoned
    }

    // ---------------------------------------------------------------- grace

    /// @dev While the stablecoin is paused nobody can repay; a recorded pause holds liquidations for the
    ///      grace period after it (the bound is exact: a second early still reverts).
    function test_liquidate_WaitsOutTheGraceAfterAStablecoinPause() public {
        unhealthy();
        vm.expectRevert(ILendingPool.CreditStablecoinNotPaused.selector);
        credit.recordStablecoinPause();
        vm.prank(admin);
        usdc.pause();
        uint256 until = block.timestamp + credit.LIQUIDATION_GRACE();
        vm.expectEmit(false, false, false, true, address(credit));
        emit ILendingPool.StablecoinPauseRecorded(block.timestamp, until);
        credit.recordStablecoinPause(); // anyone, e.g. the borrower or a keeper
        vm.prank(admin);
        usdc.unpause();
        assertEq(credit.stablecoinGraceUntil(), until, "grace until");
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditLiquidationGrace.selector, until));
        vm.prank(liquidator);
        credit.liquidate(assetId, borrower, type(uint256).max, liquidator);
        vm.warp(until - 1);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditLiquidationGrace.selector, until));
        vm.prank(liquidator);
        credit.liquidate(assetId, borrower, type(uint256).max, liquidator);
        vm.warp(until);
        vm.prank(liquidator);
        credit.liquidate(assetId, borrower, type(uint256).max, liquidator);
    }

    /// @dev After the feed was stale, borrowers get the grace period from its recovery too.
    function test_liquidate_WaitsOutTheGraceAfterTheFeedRecovers() public {
        seasoned();
        depositCollateral(100e18);
        borrow(credit.borrowCapacity(assetId, borrower));
        (, uint64 last,,) = nav.lendingPrice();
        runEpochs(2 * NAV_WINDOW, 0); // two windows delivered nothing
        (, last,,) = nav.lendingPrice();
        vm.warp(epochStart(last + NAV_STALE + 2)); // then nothing finalized for a while: stale
        market.finalizeEpochs(assetId, 2); // anyone settles the overdue epochs
        assertTrue(nav.update(), "recorded");
        uint256 until = block.timestamp + credit.LIQUIDATION_GRACE();
        assertLt(credit.healthFactor(assetId, borrower), 1e18, "unhealthy");
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditLiquidationGrace.selector, until));
        vm.prank(liquidator);
        credit.liquidate(assetId, borrower, type(uint256).max, liquidator);
        vm.warp(until);
        vm.prank(liquidator);
        credit.liquidate(assetId, borrower, type(uint256).max, liquidator);
    }

    /// @dev Epochs finalized on time but nobody recorded a round for a while: that is no outage, and the
    ///      liquidator's own call (which records the round) is not held by a grace (the review's finding).
    function test_liquidate_NoGraceWhenOnlyRoundsWentUnrecorded() public {
        seasoned();
        depositCollateral(100e18);
        borrow(credit.borrowCapacity(assetId, borrower));
        runEpochs(2 * NAV_WINDOW, 0); // rounds recorded: half the track record delivered nothing
        for (uint256 i; i < NAV_WINDOW; ++i) {
            reportAndFinalize(market.ledgerOf(assetId).nextEpochToFinalize, 0); // on time, but no update()
        }
        assertTrue(nav.isStale(), "the feed's last round is stale");
        vm.prank(liquidator);
        credit.liquidate(assetId, borrower, type(uint256).max, liquidator);
        assertEq(nav.recoveredAt(), 0, "no recovery recorded: the data was never stale");
    }

    function unhealthy() internal {
        seasoned();
        depositCollateral(100e18);
        borrow(credit.borrowCapacity(assetId, borrower));
        runEpochs(NAV_WINDOW + 3, 0);
        assertLt(credit.healthFactor(assetId, borrower), 1e18, "unhealthy");
    }

    // ---------------------------------------------------------------- the vault's price

    /// @dev A deposit too small for one vault share is refused; with 1e6 virtual shares a unit, only zero is.
    function test_vault_FirstDepositCannotMintZero() public {
        CreditMarket fresh = new CreditMarket(admin, registry, navFactory, rateCurve(), 0, "c", "c");
        vm.startPrank(lender);
        usdc.approve(address(fresh), type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditZeroShares.selector, 0));
        fresh.deposit(0, lender);
        assertEq(fresh.deposit(1, lender), 1e6, "one unit mints 1e6 shares");
        vm.stopPrank();
    }

    /// @dev Stablecoin and shares sent to the market directly move neither the vault's share price nor
    ///      the lenders' liquidity: the inflation attack has nothing to inflate.
    function test_vault_DonationsMoveNothing() public {
        uint256 priceBefore = credit.convertToAssets(1e18);
        vm.prank(lender);
        usdc.transfer(address(credit), 500 * USDC);
        vm.prank(investor);
        shares.transfer(address(credit), 100e18); // outside any position
        earn(1_000, 3);
        credit.settle(assetId, borrower); // collects the donated shares' revenue
        assertEq(credit.convertToAssets(1e18), priceBefore, "share price unchanged");
        assertEq(credit.idle(), SUPPLY, "liquidity unchanged");
        uint256 stray = credit.strayRevenue();
        assertGt(stray, 0, "the donated shares earned");
        uint256 treasuryBefore = usdc.balanceOf(treasury);
        vm.expectEmit(true, false, false, true, address(credit));
        emit ICreditMarket.StrayRevenueSwept(treasury, stray);
        credit.sweepStrayRevenue();
        assertEq(usdc.balanceOf(treasury) - treasuryBefore, stray, "to the treasury, never the lenders");
        vm.expectRevert(ILendingPool.CreditZeroAmount.selector);
        credit.sweepStrayRevenue();
    }

    /// @dev While positions exist, donated shares earn for them (a gift to borrowers), not for lenders.
    function test_vault_DonatedSharesEarnForPositions() public {
        depositCollateral(100e18);
        vm.prank(investor);
        shares.transfer(address(credit), 100e18);
        earn(1_000, 3);
        uint256 distributed = shares.totalDistributed();
        credit.settle(assetId, borrower);
        assertEq(credit.idle(), SUPPLY, "lenders unchanged");
        assertEq(credit.strayRevenue(), 0, "nothing stray while a position exists");
        assertApproxEqAbs(
            credit.positionOf(assetId, borrower).surplus, distributed * 200 / 1_000, 2, "the position earns for both"
        );
    }

    function test_views_Caps() public view {
        Caps memory c = credit.capsOf(assetId);
        assertEq(c.borrowCap, SUPPLY, "borrow cap");
        assertEq(c.supplyCap, 1_000e18, "supply cap");
        assertEq(credit.assetDebt(assetId), 0, "no debt");
        assertTrue(credit.supportsInterface(type(ILendingPool).interfaceId), "ILendingPool");
    }
}
