// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {BtcCreditMarket} from "../../../contracts/BtcCreditMarket.sol";
import {AggregatorV3Interface} from "../../../contracts/interfaces/AggregatorV3Interface.sol";
import {Caps, CollateralParams, RateCurve} from "../../../contracts/interfaces/ILendingPool.sol";
import {TestAggregator} from "../../../contracts/test/TestAggregator.sol";
import {Blocklist} from "../../../contracts/interfaces/IStablecoinGuard.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {TestWrappedBtc} from "../../../contracts/test/TestWrappedBtc.sol";
import {Test} from "../utils/Test.sol";
import {BtcHandler} from "./BtcHandler.sol";

/// @notice The BTC market under moving, stale and unavailable prices, sequencer outages, pauses and
///         donations, on an L2 deployment (with a sequencer feed).
contract BtcCreditInvariantTest is Test {
    address internal admin = address(0xA11CE);
    BtcHandler internal handler;
    BtcCreditMarket internal btc;
    TestStablecoin internal usdc;
    TestWrappedBtc internal wbtc;

    function setUp() public {
        vm.warp(1_800_000_000);
        usdc = new TestStablecoin(admin);
        wbtc = new TestWrappedBtc(admin);
        TestAggregator feed = new TestAggregator(admin, 8, "BTC / USD", 60_000e8);
        TestAggregator sequencer = new TestAggregator(admin, 0, "L2 Sequencer Uptime Status Feed", 0);
        vm.warp(block.timestamp + 2 hours); // the sequencer has been up past the grace
        vm.prank(admin);
        feed.setAnswer(60_000e8);
        btc = new BtcCreditMarket(
            admin,
            BtcCreditMarket.Terms({
                stablecoin: IERC20(address(usdc)),
                collateral: IERC20(address(wbtc)),
                priceFeed: AggregatorV3Interface(address(feed)),
                sequencerFeed: AggregatorV3Interface(address(sequencer)),
                heartbeat: 1 hours,
                params: CollateralParams({
                    ltvBps: 7_000, liquidationThresholdBps: 8_000, liquidationBonusBps: 500, closeFactorBps: 5_000
                }),
                caps: Caps({borrowCap: uint128(5_000_000e6), supplyCap: uint128(250e8)}),
                curve: RateCurve({baseBps: 200, kinkBps: 8_000, slope1Bps: 1_000, slope2Bps: 10_000}),
                minDebt: 100e6,
                blocklist: Blocklist({target: address(usdc), selector: bytes4(keccak256("isBlacklisted(address)"))})
            }),
            "b",
            "b"
        );
        handler = new BtcHandler(btc, usdc, wbtc, feed, sequencer, admin);
        targetContract(address(handler));
    }

    /// @notice Debt never exceeded what the collateral allowed at the fresh price when it was borrowed.
    function invariant_debtWithinLtvAtBorrow() public view {
        assertFalse(handler.overBorrowed(), "a borrow went above LTV");
    }

    /// @notice Every stablecoin unit the market holds is the lenders' idle liquidity or a donation, and
    ///         the lenders' assets are what they supplied plus interest less recorded bad debt.
    function invariant_everyUnitOwed() public view {
        assertEq(usdc.balanceOf(address(btc)), btc.idle() + handler.donated(), "balance == idle + donations");
        assertLe(btc.totalBorrowed() + btc.idle(), btc.totalAssets(), "assets are idle plus debt");
        assertGe(
            btc.totalAssets() + btc.badDebt() + handler.withdrawn(),
            handler.supplied() + 0,
            "lenders lose only recorded bad debt"
        );
    }

    /// @notice Every satoshi the market holds is some position's collateral.
    function invariant_collateralConserved() public view {
        uint256 sum;
        for (uint256 i; i < 3; ++i) {
            sum += btc.positionOf(handler.borrowerAt(i)).collateral;
        }
        assertEq(sum, btc.totalCollateral(), "positions sum to the total");
        assertEq(wbtc.balanceOf(address(btc)), sum, "held == pledged");
    }

    /// @notice No healthy position liquidated, none without a usable price, none paid above the bonus.
    function invariant_liquidationsFair() public view {
        assertFalse(handler.healthyLiquidated(), "a healthy position was liquidated");
        assertFalse(handler.liquidatedWithoutPrice(), "liquidated on a stale price or with the sequencer down");
        assertFalse(handler.overSeized(), "seized more than repaid x (1 + bonus)");
    }
}
