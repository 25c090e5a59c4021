// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CapacityRegistry} from "../../../contracts/CapacityRegistry.sol";
import {CapacityShares} from "../../../contracts/CapacityShares.sol";
import {CreditMarket} from "../../../contracts/CreditMarket.sol";
import {LeaseMarket} from "../../../contracts/LeaseMarket.sol";
import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {NavOracle} from "../../../contracts/NavOracle.sol";
import {CollateralParams, Position} from "../../../contracts/interfaces/ICreditMarket.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";

/// @notice Drives lenders, borrowers, liquidators, donors and epoch settlement against the CreditMarket,
///         checking each action's effect on the vault's assets and keeping ghost totals for the invariants.
contract CreditHandler is HandlerBase {
    uint256 private constant BPS = 10_000;

    struct Deps {
        TestStablecoin usdc;
        CapacityRegistry registry;
        MetricsOracle oracle;
        LeaseMarket market;
        NavOracle nav;
        CreditMarket credit;
        uint256 assetId;
        address admin;
        address investor;
        uint256[3] keys;
    }

    TestStablecoin public usdc;
    CapacityRegistry public registry;
    MetricsOracle public oracle;
    LeaseMarket public market;
    NavOracle public nav;
    CreditMarket public credit;
    CapacityShares public shares;
    uint256 public assetId;
    uint256[3] internal keys;
    address internal admin;

    address[2] public lenders = [address(0x1E1), address(0x1E2)];
    address[3] public borrowers = [address(0xB1), address(0xB2), address(0xB3)];
    address public liquidator = address(0x11D);
    address public donor = address(0xD0);

    // ghosts
    uint256 public supplied;
    uint256 public withdrawn;
    uint256 public interest; // growth of the vault's assets while time passes
    uint256 public rounding; // units the vault gained from rounding (a unit at most per debt reduction)
    uint256 public donated; // stablecoin sent to the market outside any function
    uint256 public liquidations;
    bool public healthyLiquidated;
    bool public overSeized;
    bool public liquidatedInGrace;
    bool public overBorrowed;
    uint256 public pauses;
    bool public priceMovedWithoutEpoch;
    uint256 public worstResidual;
    uint256 public calls; // actions checked by `accounted`

    constructor(Deps memory d) {
        admin = d.admin;
        usdc = d.usdc;
        registry = d.registry;
        oracle = d.oracle;
        market = d.market;
        nav = d.nav;
        credit = d.credit;
        assetId = d.assetId;
        keys = d.keys;
        shares = CapacityShares(d.registry.terms(d.assetId).shares);
        address[6] memory everyone = [lenders[0], lenders[1], borrowers[0], borrowers[1], borrowers[2], liquidator];
        vm.startPrank(d.admin);
        for (uint256 i; i < everyone.length; ++i) {
            d.usdc.mint(everyone[i], 10_000_000e6);
        }
        d.usdc.mint(donor, 10_000_000e6);
        vm.stopPrank();
        for (uint256 i; i < everyone.length; ++i) {
            vm.startPrank(everyone[i]);
            d.usdc.approve(address(d.credit), type(uint256).max);
            shares.approve(address(d.credit), type(uint256).max);
            vm.stopPrank();
        }
        for (uint256 i; i < borrowers.length; ++i) {
            vm.prank(d.investor);
            shares.transfer(borrowers[i], 200e18);
        }
    }

    /// @dev Checks that an action changed the vault's assets by `expected`, give or take rounding in the
    ///      vault's favour, and that it did not move the NAV price unless an epoch was recorded.
    modifier accounted(int256 expected) {
        uint256 before = credit.totalAssets();
        (uint256 priceBefore, uint64 epochBefore) = _price();
        calls++;
        _;
        _checkAssets(before, expected);
        (uint256 priceAfter, uint64 epochAfter) = _price();
        if (epochAfter == epochBefore && priceAfter != priceBefore) priceMovedWithoutEpoch = true;
    }

    /// @dev Nothing moves the stablecoin while it is paused: such actions would only revert, changing
    ///      nothing (the unit tests show it); liquidations and repayments are still attempted.
    modifier whenLive() {
        if (usdc.paused()) return;
        _;
    }

    int256 private _expected; // set by actions whose effect on the assets depends on what happened

    function _checkAssets(uint256 before, int256 expected) private {
        if (expected == type(int256).min) expected = _expected;
        int256 residual = int256(credit.totalAssets()) - int256(before) - expected;
        require(residual >= 0 && residual <= 2, "vault assets moved by an unexplained amount");
        rounding += uint256(residual);
        if (uint256(residual) > worstResidual) worstResidual = uint256(residual);
    }

    /// @dev The lending price, the one the market lends and liquidates at.
    function _price() private view returns (uint256 price, uint64 epoch) {
        if (nav.roundCount() == 0) return (0, 0);
        (price, epoch,,) = nav.lendingPrice();
    }

    // ---------------------------------------------------------------- lenders

    function supply(uint256 who, uint256 amount) external whenLive accounted(int256(bound(amount, 1, 1_000_000e6))) {
        amount = bound(amount, 1, 1_000_000e6);
        vm.prank(lenders[who % 2]);
        credit.deposit(amount, lenders[who % 2]);
        supplied += amount;
    }

    function withdraw(uint256 who, uint256 amount) external whenLive accounted(type(int256).min) {
        address lender = lenders[who % 2];
        amount = bound(amount, 0, credit.maxWithdraw(lender));
        _expected = -int256(amount);
        if (amount == 0) return;
        vm.prank(lender);
        credit.withdraw(amount, lender, lender);
        withdrawn += amount;
    }

    // ---------------------------------------------------------------- borrowers

    function depositCollateral(uint256 who, uint256 amount) external whenLive accounted(0) {
        address b = borrowers[who % 3];
        amount = bound(amount, 0, shares.balanceOf(b));
        if (amount == 0) return;
        vm.prank(b);
        credit.depositCollateral(assetId, amount, b);
    }

    function withdrawCollateral(uint256 who, uint256 amount) external accounted(0) {
        address b = borrowers[who % 3];
        amount = bound(amount, 1, type(uint128).max);
        vm.prank(b);
        try credit.withdrawCollateral(assetId, amount, b) {} catch {}
    }

    function borrow(uint256 who, uint256 amount) external accounted(0) {
        address b = borrowers[who % 3];
        uint256 capacity = credit.borrowCapacity(assetId, b);
        if (capacity == 0) return;
        // near the limit, so that a falling price makes positions liquidatable; sometimes above it
        amount = bound(amount, capacity / 2 + 1, capacity + capacity / 10 + 1);
        vm.prank(b);
        try credit.borrow(assetId, amount, b) {
            // the debt is within LTV x value at the lending price the borrow used (recorded by the borrow itself)
            (uint256 price,) = _price();
            uint256 value = uint256(credit.positionOf(assetId, b).collateral) * price / 1e18;
            if (credit.debtOf(assetId, b) > value * credit.collateralParams(assetId).ltvBps / BPS) overBorrowed = true;
        } catch {}
    }

    function repay(uint256 who, uint256 amount) external accounted(0) {
        address b = borrowers[who % 3];
        uint256 debt = credit.debtOf(assetId, b);
        amount = amount % 3 == 0 ? type(uint256).max : bound(amount, 1, debt + 1);
        vm.prank(b);
        try credit.repay(assetId, amount, b) {} catch {}
    }

    function settle(uint256 who) external whenLive accounted(0) {
        credit.settle(assetId, borrowers[who % 3]);
    }

    function claimSurplus(uint256 who) external accounted(0) {
        address b = borrowers[who % 3];
        vm.prank(b);
        try credit.claimSurplus(assetId, b) {} catch {}
    }

    // ---------------------------------------------------------------- liquidators and donors

    function liquidate(uint256 who, uint256 amount) external accounted(type(int256).min) {
        address b = borrowers[who % 3];
        uint256 hf = credit.healthFactor(assetId, b);
        uint256 debt = credit.debtOf(assetId, b);
        amount = bound(amount, 1, debt / 2 + 1);
        uint256 badBefore = credit.badDebt();
        uint256 paidBefore = usdc.balanceOf(liquidator);
        uint256 roundsBefore = nav.roundCount();
        _expected = 0;
        vm.prank(liquidator);
        try credit.liquidate(assetId, b, amount, liquidator) returns (uint256 seized) {
            liquidations++;
            (uint256 price,) = _price(); // the market records the newest round before it prices
            // health as the market saw it: before any round it recorded itself
            if (hf >= 1e18 && nav.roundCount() == roundsBefore) healthyLiquidated = true;
            if (block.timestamp < credit.stablecoinGraceUntil()) liquidatedInGrace = true;
            uint256 repaid = paidBefore - usdc.balanceOf(liquidator);
            CollateralParams memory p = credit.collateralParams(assetId);
            if (seized * price / 1e18 > repaid * (BPS + p.liquidationBonusBps) / BPS) overSeized = true;
            _expected = -int256(credit.badDebt() - badBefore);
        } catch {}
    }

    /// @dev Stablecoin sent straight to the market must not move the vault's share price.
    function donate(uint256 amount) external whenLive accounted(0) {
        amount = bound(amount, 1, 1_000_000e6);
        vm.prank(donor);
        usdc.transfer(address(credit), amount);
        donated += amount;
    }

    /// @dev The issuer pauses the stablecoin at any step; a keeper records the pause while it lasts.
    function pauseStablecoin(bool record) external {
        if (usdc.paused()) return;
        vm.prank(admin);
        usdc.pause();
        pauses++;
        if (record) credit.recordStablecoinPause();
    }

    function unpauseStablecoin() external {
        if (!usdc.paused()) return;
        vm.prank(admin);
        usdc.unpause();
    }

    // ---------------------------------------------------------------- time and epochs

    function wait(uint256 seconds_) external accounted(type(int256).min) {
        uint256 before = credit.totalAssets();
        vm.warp(block.timestamp + bound(seconds_, 1, 2 hours));
        uint256 grown = credit.totalAssets() - before;
        interest += grown;
        _expected = int256(grown);
    }

    /// @dev Settles the next epoch (a report at `uptime`, or none) and, unless told not to, records the
    ///      feed's round. The price may move here, and only here.
    function settleEpoch(uint32 uptime, bool report, bool recordRound) external whenLive {
        uint256 before = credit.totalAssets();
        // half the epochs fall short, so that prices fall and liquidations happen
        uptime = uint32(uptime % 2 == 0 ? bound(uptime, 0, 3_000) : bound(uptime, 0, 10_000));
        _settleNextEpoch(registry, market, oracle, keys, assetId, uptime, report);
        interest += credit.totalAssets() - before;
        if (recordRound) nav.update();
    }

    function updateFeed() external {
        nav.update();
    }

    // ---------------------------------------------------------------- views for the invariants

    function borrowerCount() external pure returns (uint256) {
        return 3;
    }

    function borrowerAt(uint256 i) external view returns (address) {
        return borrowers[i];
    }
}
