// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {BtcCreditMarket} from "../../../contracts/BtcCreditMarket.sol";
import {AggregatorV3Interface} from "../../../contracts/interfaces/AggregatorV3Interface.sol";
import {BtcPosition, IBtcCreditMarket} from "../../../contracts/interfaces/IBtcCreditMarket.sol";
import {Caps, CollateralParams, ILendingPool, RateCurve} from "../../../contracts/interfaces/ILendingPool.sol";
import {TestAggregator} from "../../../contracts/test/TestAggregator.sol";
import {Blocklist} from "../../../contracts/interfaces/IStablecoinGuard.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {TestWrappedBtc} from "../../../contracts/test/TestWrappedBtc.sol";
import {Test} from "../utils/Test.sol";

/// @notice A BTC market at 70 % LTV, 80 % liquidation threshold, 5 % bonus, 50 % close factor, a BTC / USD
///         feed at 60,000 with a one-hour heartbeat, 100,000 USDC supplied; optionally an L2 sequencer feed.
contract BtcCreditMarketTest is Test {
    uint256 internal constant USDC = 1e6;
    uint256 internal constant BTC = 1e8;
    uint256 internal constant SUPPLY = 100_000 * USDC;
    uint32 internal constant HEARTBEAT = 1 hours;

    address internal admin = address(0xA11CE);
    address internal lender = address(0x1E4D);
    address internal miner = address(0xB7C); // a former bitcoin miner financing GPUs
    address internal liquidator = address(0x11CD);

    TestStablecoin internal usdc;
    TestWrappedBtc internal wbtc;
    TestAggregator internal btcUsd;
    TestAggregator internal sequencer;
    BtcCreditMarket internal btc;

    function setUp() public {
        vm.warp(1_800_000_000);
        usdc = new TestStablecoin(admin);
        wbtc = new TestWrappedBtc(admin);
        btcUsd = new TestAggregator(admin, 8, "BTC / USD", 60_000e8);
        sequencer = new TestAggregator(admin, 0, "L2 Sequencer Uptime Status Feed", 0);
        btc = deploy(address(0));
        vm.startPrank(admin);
        usdc.mint(lender, SUPPLY);
        usdc.mint(liquidator, 1_000_000 * USDC);
        usdc.mint(miner, 1_000 * USDC);
        wbtc.mint(miner, 10 * BTC);
        vm.stopPrank();
        vm.prank(lender);
        usdc.approve(address(btc), type(uint256).max);
        vm.prank(lender);
        btc.deposit(SUPPLY, lender);
        vm.startPrank(miner);
        wbtc.approve(address(btc), type(uint256).max);
        usdc.approve(address(btc), type(uint256).max);
        vm.stopPrank();
        vm.prank(liquidator);
        usdc.approve(address(btc), type(uint256).max);
    }

    function params() internal pure returns (CollateralParams memory) {
        return CollateralParams({
            ltvBps: 7_000, liquidationThresholdBps: 8_000, liquidationBonusBps: 500, closeFactorBps: 5_000
        });
    }

    function terms(address sequencerFeed) internal view returns (BtcCreditMarket.Terms memory) {
        return BtcCreditMarket.Terms({
            stablecoin: IERC20(address(usdc)),
            collateral: IERC20(address(wbtc)),
            priceFeed: AggregatorV3Interface(address(btcUsd)),
            sequencerFeed: AggregatorV3Interface(sequencerFeed),
            heartbeat: HEARTBEAT,
            params: params(),
            caps: Caps({borrowCap: uint128(SUPPLY), supplyCap: uint128(100 * BTC)}),
            curve: RateCurve({baseBps: 200, kinkBps: 8_000, slope1Bps: 1_000, slope2Bps: 10_000}),
            minDebt: 100 * USDC,
            blocklist: Blocklist({target: address(usdc), selector: bytes4(keccak256("isBlacklisted(address)"))})
        });
    }

    function deploy(address sequencerFeed) internal returns (BtcCreditMarket) {
        return new BtcCreditMarket(admin, terms(sequencerFeed), "Wellhead BTC Credit tUSDC", "wbUSDC");
    }

    function pledgeAndBorrow(uint256 collateral, uint256 amount) internal {
        vm.startPrank(miner);
        btc.supplyCollateral(collateral, miner);
        btc.borrow(amount, miner);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- deployment

    function test_constructor_RevertWhen_TermsUnsafe() public {
        BtcCreditMarket.Terms memory t = terms(address(0));
        t.params.ltvBps = 8_000; // not below the threshold
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditInvalidCollateralParams.selector, t.params));
        new BtcCreditMarket(admin, t, "b", "b");
        t = terms(address(0));
        t.heartbeat = 59;
        vm.expectRevert(abi.encodeWithSelector(IBtcCreditMarket.CreditInvalidFeed.selector, address(btcUsd)));
        new BtcCreditMarket(admin, t, "b", "b");
        t.heartbeat = 2 days + 1;
        vm.expectRevert(abi.encodeWithSelector(IBtcCreditMarket.CreditInvalidFeed.selector, address(btcUsd)));
        new BtcCreditMarket(admin, t, "b", "b");
        t.heartbeat = 2 days; // the bounds themselves are allowed
        new BtcCreditMarket(admin, t, "b", "b");
        t.heartbeat = 60;
        new BtcCreditMarket(admin, t, "b", "b");
    }

    function test_views() public view {
        assertEq(btc.collateralToken(), address(wbtc), "collateral");
        assertEq(btc.priceFeed(), address(btcUsd), "feed");
        assertEq(btc.sequencerFeed(), address(0), "no sequencer on L1");
        assertEq(btc.heartbeat(), HEARTBEAT, "heartbeat");
        (uint256 p, bool usable) = btc.price();
        assertEq(p, 60_000 * USDC, "USDC units per whole bitcoin");
        assertTrue(usable, "fresh");
        assertEq(btc.collateralParams().ltvBps, 7_000, "LTV");
        assertTrue(btc.supportsInterface(type(IBtcCreditMarket).interfaceId), "IBtcCreditMarket");
        assertTrue(btc.supportsInterface(type(ILendingPool).interfaceId), "ILendingPool");
    }

    // ---------------------------------------------------------------- borrowing

    /// @dev 1 BTC at 60,000 backs 42,000 at 70 %; a unit more is refused.
    function test_borrow_UpToLtv() public {
        vm.prank(miner);
        btc.supplyCollateral(BTC, miner);
        assertEq(btc.borrowCapacity(miner), 42_000 * USDC, "70 % of 60,000");
        vm.expectRevert(
            abi.encodeWithSelector(ILendingPool.CreditExceedsLtv.selector, 42_000 * USDC + 1, 42_000 * USDC)
        );
        vm.prank(miner);
        btc.borrow(42_000 * USDC + 1, miner);
        vm.prank(miner);
        btc.borrow(42_000 * USDC, miner);
        assertEq(usdc.balanceOf(miner), 43_000 * USDC, "paid out");
        assertEq(btc.debtOf(miner), 42_000 * USDC, "owed");
        assertEq(btc.healthFactor(miner), uint256(8_000) * 1e18 / 7_000, "80 % / 70 %");
        BtcPosition memory p = btc.positionOf(miner);
        assertEq(p.collateral, BTC, "pledged");
    }

    function test_borrow_RevertWhen_BadInput() public {
        vm.startPrank(miner);
        vm.expectRevert(ILendingPool.CreditZeroAmount.selector);
        btc.supplyCollateral(0, miner);
        btc.supplyCollateral(BTC, miner);
        vm.expectRevert(ILendingPool.CreditZeroAmount.selector);
        btc.borrow(0, miner);
        vm.expectRevert(
            abi.encodeWithSelector(ILendingPool.CreditDebtBelowMinimum.selector, 100 * USDC - 1, 100 * USDC)
        );
        btc.borrow(100 * USDC - 1, miner);
        btc.borrow(100 * USDC, miner); // the minimum itself is allowed
        vm.stopPrank();
    }

    /// @dev A price older than the heartbeat refuses new debt: at exactly the heartbeat it is still fresh.
    function test_borrow_RevertWhen_PriceStale() public {
        vm.prank(miner);
        btc.supplyCollateral(BTC, miner);
        uint256 updatedAt = block.timestamp;
        vm.warp(updatedAt + HEARTBEAT);
        vm.prank(miner);
        btc.borrow(1_000 * USDC, miner);
        vm.warp(updatedAt + HEARTBEAT + 1);
        vm.expectRevert(abi.encodeWithSelector(IBtcCreditMarket.CreditPriceStale.selector, updatedAt, HEARTBEAT));
        vm.prank(miner);
        btc.borrow(1_000 * USDC, miner);
        assertEq(btc.borrowCapacity(miner), 0, "no capacity on a stale price");
        vm.expectRevert(abi.encodeWithSelector(IBtcCreditMarket.CreditPriceStale.selector, updatedAt, HEARTBEAT));
        vm.prank(miner);
        btc.withdrawCollateral(1, miner); // with debt, a withdrawal needs a fresh price too
    }

    function test_borrow_RevertWhen_PriceNotPositive() public {
        vm.prank(miner);
        btc.supplyCollateral(BTC, miner);
        int256[2] memory bad = [int256(0), int256(-1)];
        for (uint256 i; i < bad.length; ++i) {
            vm.prank(admin);
            btcUsd.setAnswer(bad[i]);
            vm.expectRevert(abi.encodeWithSelector(IBtcCreditMarket.CreditInvalidPrice.selector, bad[i]));
            vm.prank(miner);
            btc.borrow(1_000 * USDC, miner);
        }
        (, bool usable) = btc.price();
        assertFalse(usable, "unusable");
    }

    function test_caps_BorrowAndSupply() public {
        vm.prank(admin);
        btc.setCaps(Caps({borrowCap: uint128(10_000 * USDC), supplyCap: uint128(2 * BTC)}));
        vm.startPrank(miner);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditSupplyCapExceeded.selector, 2 * BTC + 1, 2 * BTC));
        btc.supplyCollateral(2 * BTC + 1, miner);
        btc.supplyCollateral(2 * BTC, miner);
        assertEq(btc.borrowCapacity(miner), 10_000 * USDC, "the cap binds");
        vm.expectRevert(
            abi.encodeWithSelector(ILendingPool.CreditBorrowCapExceeded.selector, 10_000 * USDC + 1, 10_000 * USDC)
        );
        btc.borrow(10_000 * USDC + 1, miner);
        btc.borrow(10_000 * USDC, miner);
        vm.stopPrank();
        assertEq(btc.totalCollateral(), 2 * BTC, "collateral total");
    }

    function test_withdrawAndRepay() public {
        pledgeAndBorrow(BTC, 21_000 * USDC);
        vm.startPrank(miner);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditInsufficientCollateral.selector, BTC + 1, BTC));
        btc.withdrawCollateral(BTC + 1, miner);
        // 21,000 needs 0.5 BTC at 70 %: half can go, a satoshi more cannot
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditExceedsLtv.selector, 21_000 * USDC, 20_999_999_580));
        btc.withdrawCollateral(BTC / 2 + 1, miner);
        btc.withdrawCollateral(BTC / 2, miner);
        vm.expectRevert(
            abi.encodeWithSelector(ILendingPool.CreditRepayExceedsDebt.selector, 21_000 * USDC + 1, 21_000 * USDC)
        );
        btc.repay(21_000 * USDC + 1, miner);
        vm.stopPrank();
        vm.prank(admin);
        usdc.mint(miner, 1_000 * USDC);
        vm.startPrank(miner);
        assertEq(btc.repay(type(uint256).max, miner), 21_000 * USDC, "all of it");
        btc.withdrawCollateral(BTC / 2, miner);
        vm.stopPrank();
        assertEq(wbtc.balanceOf(miner), 10 * BTC, "every satoshi back");
        assertEq(btc.idle(), SUPPLY, "the pool is whole");
    }

    // ---------------------------------------------------------------- liquidation

    /// @dev BTC falls from 60,000 to 50,000: 1 BTC worth 50,000 x 80 % < 42,000 of debt. A liquidator repays
    ///      half and takes 21,000 x 1.05 / 50,000 BTC.
    function test_liquidate_AfterAPriceDrop() public {
        pledgeAndBorrow(BTC, 42_000 * USDC);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBtcCreditMarket.CreditPositionHealthy.selector, miner, uint256(8_000) * 1e18 / 7_000
            )
        );
        vm.prank(liquidator);
        btc.liquidate(miner, type(uint256).max, liquidator);
        vm.prank(admin);
        btcUsd.setAnswer(50_000e8);
        assertLt(btc.healthFactor(miner), 1e18, "unhealthy");
        vm.prank(liquidator);
        uint256 seized = btc.liquidate(miner, type(uint256).max, liquidator);
        assertEq(seized, 21_000 * USDC * 10_500 * BTC / (50_000 * USDC * 10_000), "repaid x 1.05 at 50,000");
        assertEq(seized, 44_100_000, "0.441 BTC");
        assertEq(btc.debtOf(miner), 21_000 * USDC, "half repaid");
        assertGt(btc.healthFactor(miner), 0.95e18, "healthier");
        assertEq(wbtc.balanceOf(liquidator), seized, "the liquidator has it");
    }

    /// @dev Health exactly 1 is not liquidatable; a unit of price less is (42,000 / 80 % = 52,500).
    function test_liquidate_BoundIsStrict() public {
        pledgeAndBorrow(BTC, 42_000 * USDC);
        vm.prank(admin);
        btcUsd.setAnswer(52_500e8);
        vm.expectRevert(abi.encodeWithSelector(IBtcCreditMarket.CreditPositionHealthy.selector, miner, 1e18));
        vm.prank(liquidator);
        btc.liquidate(miner, type(uint256).max, liquidator);
        vm.prank(admin);
        btcUsd.setAnswer(52_500e8 - 100); // one USDC unit less per bitcoin
        vm.prank(liquidator);
        btc.liquidate(miner, type(uint256).max, liquidator);
    }

    /// @dev A crash below the debt plus bonus: all collateral for what it is worth at the discount; the
    ///      rest is bad debt the lenders bear.
    function test_liquidate_CrashWritesOffBadDebt() public {
        pledgeAndBorrow(BTC, 42_000 * USDC);
        vm.prank(admin);
        btcUsd.setAnswer(30_000e8);
        uint256 assetsBefore = btc.totalAssets();
        vm.prank(liquidator);
        uint256 seized = btc.liquidate(miner, type(uint256).max, liquidator);
        assertEq(seized, BTC, "all of it");
        uint256 repaid = Math.mulDiv(30_000 * USDC, 10_000, 10_500, Math.Rounding.Ceil);
        assertEq(btc.badDebt(), 42_000 * USDC - repaid, "the rest written off");
        assertEq(btc.totalAssets(), assetsBefore - btc.badDebt(), "lenders bear it");
        assertEq(btc.debtOf(miner), 0, "closed");
    }

    function test_liquidate_RevertWhen_PriceStaleOrNotPositive() public {
        pledgeAndBorrow(BTC, 42_000 * USDC);
        vm.prank(admin);
        btcUsd.setRound(40_000e8, block.timestamp - 2 hours, block.timestamp - 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IBtcCreditMarket.CreditPriceStale.selector, block.timestamp - 2 hours, HEARTBEAT)
        );
        vm.prank(liquidator);
        btc.liquidate(miner, type(uint256).max, liquidator);
        vm.prank(admin);
        btcUsd.setAnswer(0);
        vm.expectRevert(abi.encodeWithSelector(IBtcCreditMarket.CreditInvalidPrice.selector, 0));
        vm.prank(liquidator);
        btc.liquidate(miner, type(uint256).max, liquidator);
    }

    /// @dev A recorded price outage gives borrowers the grace period once the feed is back.
    function test_liquidate_WaitsOutTheGraceAfterAPriceOutage() public {
        pledgeAndBorrow(BTC, 42_000 * USDC);
        vm.expectRevert(abi.encodeWithSelector(IBtcCreditMarket.CreditPriceFresh.selector, block.timestamp, HEARTBEAT));
        btc.recordPriceOutage();
        vm.warp(block.timestamp + HEARTBEAT + 2 hours);
        btc.recordPriceOutage(); // a keeper sees the feed stale for two hours: the grace is the full hour
        uint256 until = block.timestamp + btc.LIQUIDATION_GRACE();
        assertEq(btc.priceOutageGraceUntil(), until, "grace until");
        vm.prank(admin);
        btcUsd.setAnswer(50_000e8); // back, lower
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditLiquidationGrace.selector, until));
        vm.prank(liquidator);
        btc.liquidate(miner, type(uint256).max, liquidator);
        vm.warp(until);
        vm.prank(admin);
        btcUsd.setAnswer(50_000e8);
        vm.prank(liquidator);
        btc.liquidate(miner, type(uint256).max, liquidator);
    }

    // ---------------------------------------------------------------- an L2 sequencer

    /// @dev Aave's PriceOracleSentinel: nothing while the sequencer is down; after it comes back, neither
    ///      borrows nor liquidations until the grace period has passed (exact at the bound).
    function test_sequencer_DownThenGrace() public {
        BtcCreditMarket l2 = deploy(address(sequencer));
        vm.prank(admin);
        usdc.mint(lender, SUPPLY);
        vm.prank(lender);
        usdc.approve(address(l2), type(uint256).max);
        vm.prank(lender);
        l2.deposit(SUPPLY / 2, lender);
        vm.startPrank(miner);
        wbtc.approve(address(l2), type(uint256).max);
        l2.supplyCollateral(BTC, miner);
        vm.stopPrank();
        vm.warp(block.timestamp + 2 hours); // the sequencer has been up for two hours
        vm.prank(admin);
        btcUsd.setAnswer(60_000e8);
        vm.prank(miner);
        l2.borrow(42_000 * USDC, miner);

        vm.prank(admin);
        sequencer.setAnswer(1); // down
        vm.prank(admin);
        btcUsd.setAnswer(50_000e8);
        vm.expectRevert(IBtcCreditMarket.CreditSequencerDown.selector);
        vm.prank(liquidator);
        l2.liquidate(miner, type(uint256).max, liquidator);
        vm.expectRevert(IBtcCreditMarket.CreditSequencerDown.selector);
        vm.prank(miner);
        l2.borrow(100 * USDC, miner);

        vm.warp(block.timestamp + 10 minutes);
        vm.prank(admin);
        sequencer.setAnswer(0); // up again, now
        vm.prank(admin);
        btcUsd.setAnswer(50_000e8);
        uint256 until = block.timestamp + l2.LIQUIDATION_GRACE();
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditLiquidationGrace.selector, until));
        vm.prank(liquidator);
        l2.liquidate(miner, type(uint256).max, liquidator);
        vm.prank(liquidator);
        usdc.approve(address(l2), type(uint256).max);
        vm.warp(until - 1);
        vm.prank(admin);
        btcUsd.setAnswer(50_000e8);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditLiquidationGrace.selector, until));
        vm.prank(liquidator);
        l2.liquidate(miner, type(uint256).max, liquidator);
        vm.warp(until);
        vm.prank(liquidator);
        l2.liquidate(miner, type(uint256).max, liquidator);
    }

    function test_sequencer_BorrowWaitsOutTheGrace() public {
        BtcCreditMarket l2 = deploy(address(sequencer));
        vm.prank(admin);
        usdc.mint(lender, SUPPLY);
        vm.prank(lender);
        usdc.approve(address(l2), type(uint256).max);
        vm.prank(lender);
        l2.deposit(SUPPLY / 2, lender);
        vm.startPrank(miner);
        wbtc.approve(address(l2), type(uint256).max);
        l2.supplyCollateral(BTC, miner);
        uint256 until = block.timestamp + l2.LIQUIDATION_GRACE(); // the sequencer came up at deployment
        vm.expectRevert(abi.encodeWithSelector(IBtcCreditMarket.CreditSequencerGrace.selector, until));
        l2.borrow(1_000 * USDC, miner);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- fuzz

    /// @dev Whatever the price and collateral, exactly the capacity can be borrowed and not a unit more.
    function testFuzz_borrow_CapacityIsExact(uint256 collateral, int256 answer) public {
        collateral = bound(collateral, BTC / 100, 10 * BTC);
        answer = int256(bound(uint256(answer), 20_000e8, 200_000e8));
        vm.prank(admin);
        btcUsd.setAnswer(answer);
        vm.prank(miner);
        btc.supplyCollateral(collateral, miner);
        uint256 value = collateral * (uint256(answer) / 100) / BTC;
        uint256 capacity = btc.borrowCapacity(miner);
        assertEq(capacity, Math.min(value * 7_000 / 10_000, SUPPLY), "min(70 % of value, liquidity)");
        if (capacity < 100 * USDC) return;
        if (capacity < SUPPLY) {
            vm.expectRevert(abi.encodeWithSelector(ILendingPool.CreditExceedsLtv.selector, capacity + 1, capacity));
            vm.prank(miner);
            btc.borrow(capacity + 1, miner);
        }
        vm.prank(miner);
        btc.borrow(capacity, miner);
    }

    /// @dev Whatever the drop and the repayment, the collateral taken is worth at most repaid x 1.05.
    function testFuzz_liquidate_SeizeBounded(int256 answer, uint256 repayAmount) public {
        pledgeAndBorrow(BTC, 42_000 * USDC);
        answer = int256(bound(uint256(answer), 1e8, 52_000e8));
        vm.prank(admin);
        btcUsd.setAnswer(answer);
        repayAmount = bound(repayAmount, 1, 42_000 * USDC);
        uint256 paid = usdc.balanceOf(liquidator);
        vm.prank(liquidator);
        uint256 seized = btc.liquidate(miner, repayAmount, liquidator);
        uint256 repaid = paid - usdc.balanceOf(liquidator);
        uint256 price = uint256(answer) / 100;
        assertLe(seized * price / BTC, repaid * 10_500 / 10_000 + 1, "seized <= repaid x 1.05");
        assertLe(repaid, repayAmount, "never more than asked");
    }
}
