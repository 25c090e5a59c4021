// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CreditMarket} from "../../../contracts/CreditMarket.sol";
import {NavOracle} from "../../../contracts/NavOracle.sol";
import {NavOracleFactory} from "../../../contracts/NavOracleFactory.sol";
import {Caps, CollateralParams, RateCurve} from "../../../contracts/interfaces/ICreditMarket.sol";
import {NavParams} from "../../../contracts/interfaces/INavOracle.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {Fixture} from "./Fixture.sol";

/// @notice The protocol fixture plus a NAV feed for its asset (6-epoch window, stale after 3 epochs,
///         3 years of depreciation life; the lending price counts at most 6 windows of life and is the
///         lowest of 4 full windows, so the feed is seasoned after 24 epochs) and a CreditMarket listing
///         it at 50 % LTV, 70 % liquidation threshold, 8 % bonus, 50 % close factor, caps of 1,000 USDC
///         of debt and all 1,000 shares, with 1,000 USDC supplied by a lender.
abstract contract CreditFixture is Fixture {
    uint32 internal constant NAV_WINDOW = 6;
    uint32 internal constant NAV_STALE = 3;
    uint16 internal constant LENDING_LIFE_WINDOWS = 6;
    uint16 internal constant TRACK_RECORD_WINDOWS = 4;
    uint256 internal constant SEASONED = NAV_WINDOW * TRACK_RECORD_WINDOWS; // epochs before a feed backs loans
    uint256 internal constant LIFE = 3 * 365 days;
    uint256 internal constant MIN_DEBT = 1 * USDC;
    uint256 internal constant SUPPLY = 1_000 * USDC;

    address internal lender = address(0x1E4D);
    address internal liquidator = address(0x11CD);
    address internal borrower; // the fixture's investor: 600 of the 1,000 shares

    NavOracleFactory internal navFactory;
    NavOracle internal nav;
    CreditMarket internal credit;

    function setUp() public virtual override {
        super.setUp();
        borrower = investor;
        navFactory = new NavOracleFactory(registry);
        vm.prank(operator);
        nav = NavOracle(navFactory.create(assetId, navParams()));
        credit = new CreditMarket(admin, registry, navFactory, rateCurve(), MIN_DEBT, "Wellhead Credit tUSDC", "wcUSDC");
        vm.prank(admin);
        credit.listCollateral(assetId, collateralParams(), caps());

        vm.startPrank(admin);
        usdc.mint(lender, 1_000_000 * USDC);
        usdc.mint(liquidator, 1_000_000 * USDC);
        vm.stopPrank();
        address[3] memory users = [lender, liquidator, borrower];
        for (uint256 i; i < users.length; ++i) {
            vm.startPrank(users[i]);
            usdc.approve(address(credit), type(uint256).max);
            shares.approve(address(credit), type(uint256).max);
            vm.stopPrank();
        }
        vm.prank(lender);
        credit.deposit(SUPPLY, lender);
    }

    function navParams() internal view returns (NavParams memory) {
        return NavParams({
            windowEpochs: NAV_WINDOW,
            staleAfterEpochs: NAV_STALE,
            depreciationEnd: uint64(block.timestamp + LIFE),
            lendingLifeWindows: LENDING_LIFE_WINDOWS,
            trackRecordWindows: TRACK_RECORD_WINDOWS
        });
    }

    function caps() internal pure returns (Caps memory) {
        return Caps({borrowCap: uint128(SUPPLY), supplyCap: 1_000e18});
    }

    function rateCurve() internal pure returns (RateCurve memory) {
        return RateCurve({baseBps: 200, kinkBps: 8_000, slope1Bps: 1_000, slope2Bps: 10_000});
    }

    function collateralParams() internal pure returns (CollateralParams memory) {
        return CollateralParams({
            ltvBps: 5_000, liquidationThresholdBps: 7_000, liquidationBonusBps: 800, closeFactorBps: 5_000
        });
    }

    /// @dev Settles the next `count` epochs with the given uptime (reports signed by two attestors) and
    ///      records the feed's round after each.
    function runEpochs(uint256 count, uint32 uptimeBps) internal {
        for (uint256 i; i < count; ++i) {
            reportAndFinalize(market.ledgerOf(assetId).nextEpochToFinalize, uptimeBps);
            nav.update();
        }
    }

    /// @dev A firm lease of all 8 GPUs for `epochs` epochs, then `count` settled epochs at full uptime.
    function earn(uint64 epochs, uint256 count) internal {
        openLease(lessee, GPUS, epochs, LeaseClass.Firm);
        runEpochs(count, 10_000);
    }

    function depositCollateral(uint256 amount) internal {
        vm.prank(borrower);
        credit.depositCollateral(assetId, amount, borrower);
    }

    function borrow(uint256 amount) internal {
        vm.prank(borrower);
        credit.borrow(assetId, amount, borrower);
    }
}
