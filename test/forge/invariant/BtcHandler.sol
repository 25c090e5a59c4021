// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BtcCreditMarket} from "../../../contracts/BtcCreditMarket.sol";
import {TestAggregator} from "../../../contracts/test/TestAggregator.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {TestWrappedBtc} from "../../../contracts/test/TestWrappedBtc.sol";
import {Test} from "../utils/Test.sol";

/// @notice Drives lenders, BTC borrowers, a liquidator, donors, the BTC price (moves, a stale feed), an L2
///         sequencer's outages and the stablecoin issuer's pauses against a BtcCreditMarket, keeping
///         ghost totals and recording any action that breaks a rule.
contract BtcHandler is Test {
    uint256 private constant BPS = 10_000;

    BtcCreditMarket public btc;
    TestStablecoin public usdc;
    TestWrappedBtc public wbtc;
    TestAggregator public feed;
    TestAggregator public sequencer;
    address internal admin;

    address[2] public lenders = [address(0x1E1), address(0x1E2)];
    address[3] public borrowers = [address(0xB1), address(0xB2), address(0xB3)];
    address public liquidator = address(0x11D);
    address public donor = address(0xD0);

    uint256 public supplied;
    uint256 public withdrawn;
    uint256 public interest;
    uint256 public repaidTotal;
    uint256 public donated;
    uint256 public liquidations;
    bool public overBorrowed; // a borrow left debt above LTV x value at the fresh price
    bool public healthyLiquidated;
    bool public overSeized;
    bool public liquidatedWithoutPrice; // while the price was stale, non-positive, or the sequencer down

    constructor(
        BtcCreditMarket btc_,
        TestStablecoin usdc_,
        TestWrappedBtc wbtc_,
        TestAggregator feed_,
        TestAggregator sequencer_,
        address admin_
    ) {
        btc = btc_;
        usdc = usdc_;
        wbtc = wbtc_;
        feed = feed_;
        sequencer = sequencer_;
        admin = admin_;
        vm.startPrank(admin);
        for (uint256 i; i < 2; ++i) {
            usdc.mint(lenders[i], 10_000_000e6);
        }
        for (uint256 i; i < 3; ++i) {
            wbtc.mint(borrowers[i], 100e8);
        }
        usdc.mint(liquidator, 100_000_000e6);
        usdc.mint(donor, 1_000_000e6);
        vm.stopPrank();
        address[6] memory everyone = [lenders[0], lenders[1], borrowers[0], borrowers[1], borrowers[2], liquidator];
        for (uint256 i; i < everyone.length; ++i) {
            vm.startPrank(everyone[i]);
            usdc.approve(address(btc), type(uint256).max);
            wbtc.approve(address(btc), type(uint256).max);
            vm.stopPrank();
        }
    }

    modifier whenLive() {
        if (usdc.paused()) return;
        _;
    }

    function _usablePrice() private view returns (uint256 price, bool usable) {
        (price, usable) = btc.price();
        (, int256 status,,,) = sequencer.latestRoundData();
        if (status != 0) usable = false;
    }

    // ---------------------------------------------------------------- lenders

    function supply(uint256 who, uint256 amount) external whenLive {
        amount = bound(amount, 1, 1_000_000e6);
        vm.prank(lenders[who % 2]);
        btc.deposit(amount, lenders[who % 2]);
        supplied += amount;
    }

    function withdraw(uint256 who, uint256 amount) external whenLive {
        address lender = lenders[who % 2];
        amount = bound(amount, 0, btc.maxWithdraw(lender));
        if (amount == 0) return;
        uint256 before = btc.totalAssets();
        vm.prank(lender);
        btc.withdraw(amount, lender, lender);
        interest += btc.totalAssets() + amount - before; // accrual since the last action
        withdrawn += amount;
    }

    // ---------------------------------------------------------------- borrowers

    function supplyCollateral(uint256 who, uint256 amount) external {
        address b = borrowers[who % 3];
        uint256 room = btc.capsOf().supplyCap - btc.totalCollateral();
        uint256 held = wbtc.balanceOf(b);
        amount = bound(amount, 0, held < room ? held : room);
        if (amount == 0) return;
        vm.prank(b);
        btc.supplyCollateral(amount, b);
    }

    function withdrawCollateral(uint256 who, uint256 amount) external {
        address b = borrowers[who % 3];
        amount = bound(amount, 1, 100e8);
        vm.prank(b);
        try btc.withdrawCollateral(amount, b) {} catch {}
    }

    function borrow(uint256 who, uint256 amount) external {
        address b = borrowers[who % 3];
        uint256 capacity = btc.borrowCapacity(b);
        // near the limit, so that a price drop makes positions liquidatable; sometimes above it
        amount = bound(amount, capacity * 9 / 10 + 1, capacity + capacity / 20 + 100e6);
        vm.prank(b);
        try btc.borrow(amount, b) {
            (uint256 price,) = btc.price();
            uint256 value = uint256(btc.positionOf(b).collateral) * price / 1e8;
            if (btc.debtOf(b) > value * btc.collateralParams().ltvBps / BPS) overBorrowed = true;
        } catch {}
    }

    function repay(uint256 who, uint256 amount) external {
        address b = borrowers[who % 3];
        uint256 debt = btc.debtOf(b);
        amount = amount % 3 == 0 ? type(uint256).max : bound(amount, 1, debt + 1);
        if (usdc.paused()) return; // nobody can repay while paused: the grace period is for this
        vm.prank(admin);
        usdc.mint(b, debt + 1); // borrowers can always find the money; only pauses stop them
        vm.prank(b);
        try btc.repay(amount, b) returns (uint256 repaid) {
            repaidTotal += repaid;
        } catch {}
    }

    // ---------------------------------------------------------------- liquidators and donors

    /// @dev Liquidates the least healthy position (the one a liquidation bot would pick).
    function liquidate(uint256 amount) external {
        address b = borrowers[0];
        uint256 hf = btc.healthFactor(b);
        for (uint256 i = 1; i < 3; ++i) {
            uint256 h = btc.healthFactor(borrowers[i]);
            if (h < hf) (b, hf) = (borrowers[i], h);
        }
        (uint256 price, bool usable) = _usablePrice();
        amount = bound(amount, 1, btc.debtOf(b) / 2 + 1);
        uint256 paid = usdc.balanceOf(liquidator);
        vm.prank(liquidator);
        try btc.liquidate(b, amount, liquidator) returns (uint256 seized) {
            liquidations++;
            if (!usable) liquidatedWithoutPrice = true;
            if (hf >= 1e18) healthyLiquidated = true;
            uint256 repaid = paid - usdc.balanceOf(liquidator);
            if (seized * price / 1e8 > repaid * (BPS + btc.collateralParams().liquidationBonusBps) / BPS + 1) {
                overSeized = true;
            }
        } catch {}
    }

    function donate(uint256 amount) external whenLive {
        amount = bound(amount, 1, 1_000e6);
        vm.prank(donor);
        usdc.transfer(address(btc), amount);
        donated += amount;
    }

    // ---------------------------------------------------------------- the price, the sequencer, the issuer

    /// @dev BTC moves by -15 % .. +10 % in one fresh round (repeated drops make crashes).
    function movePrice(uint256 change) external {
        (, int256 answer,,,) = feed.latestRoundData();
        int256 bps = int256(bound(change, 8_500, 11_000));
        int256 next = answer * bps / 10_000;
        if (next < 1_000e8) next = 1_000e8;
        vm.prank(admin);
        feed.setAnswer(next);
        this.liquidate(change); // liquidation bots react to every price update
    }

    /// @dev One disruption: the feed goes stale (a keeper records the outage), the sequencer goes down,
    ///      or the issuer pauses the stablecoin (a keeper records the pause, or not).
    function disrupt(uint8 kind, bool record) external {
        kind %= 3;
        if (kind == 0) {
            vm.warp(block.timestamp + btc.heartbeat() + 1);
            if (record) btc.recordPriceOutage();
        } else if (kind == 1) {
            vm.prank(admin);
            sequencer.setAnswer(1);
        } else if (!usdc.paused()) {
            vm.prank(admin);
            usdc.pause();
            if (record) btc.recordStablecoinPause();
        }
    }

    /// @dev Everything comes back: the sequencer (its grace starts now), the stablecoin, a fresh price.
    function recover() external {
        (, int256 status,,,) = sequencer.latestRoundData();
        if (status != 0) {
            vm.prank(admin);
            sequencer.setAnswer(0);
        }
        if (usdc.paused()) {
            vm.prank(admin);
            usdc.unpause();
        }
        (, int256 answer,,,) = feed.latestRoundData();
        vm.prank(admin);
        feed.setAnswer(answer);
    }

    /// @dev Time passes (interest accrues, graces run out); the feed keeps posting fresh rounds.
    function wait(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 2 hours));
        (, int256 answer,, uint256 updatedAt,) = feed.latestRoundData();
        if (block.timestamp > updatedAt + btc.heartbeat() && seconds_ % 2 == 0) {
            vm.prank(admin);
            feed.setAnswer(answer);
        }
    }

    function borrowerAt(uint256 i) external view returns (address) {
        return borrowers[i];
    }
}
