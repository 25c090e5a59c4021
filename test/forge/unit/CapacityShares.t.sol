// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {CapacityShares} from "../../../contracts/CapacityShares.sol";
import {AssetParams} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {ICapacityShares} from "../../../contracts/interfaces/ICapacityShares.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {Fixture} from "../utils/Fixture.sol";
import {SharesMarketStandIn} from "../utils/SharesMarketStandIn.sol";
import {Test} from "../utils/Test.sol";

contract CapacitySharesTest is Fixture {
    function _earn() internal returns (uint256 holders) {
        openLease(lessee, 4, 1, LeaseClass.Firm);
        skipAndFinalize(0);
        reportAndFinalize(1, 10_000);
        holders = market.ledgerOf(assetId).holdersRevenue;
    }

    function test_transfer_SettlesBothSides() public {
        uint256 holders = _earn();
        vm.prank(investor);
        shares.transfer(lessee2, 300e18);
        // revenue earned before the transfer stays with the sender
        assertEq(shares.claimable(investor), holders * 60 / 100, "sender keeps past revenue");
        assertEq(shares.claimable(lessee2), 0, "receiver earns only from now");
        vm.expectEmit(true, true, false, true, address(shares));
        emit ICapacityShares.RevenueClaimed(investor, lessee, holders * 60 / 100);
        vm.prank(investor);
        shares.claim(lessee);
        assertEq(shares.totalClaimed(), holders * 60 / 100, "claimed");
        vm.prank(investor);
        vm.expectRevert(abi.encodeWithSelector(ICapacityShares.SharesNothingToClaim.selector, investor));
        shares.claim(investor);
    }

    function test_distribute_RevertWhen_NotMarket() public {
        vm.expectRevert(abi.encodeWithSelector(ICapacityShares.SharesOnlyMarket.selector, address(this)));
        shares.distribute(1);
    }

    function test_sale_BuyFromOperator() public {
        uint64 deadline = uint64(block.timestamp + 1 days);
        vm.expectEmit(false, false, false, true, address(shares));
        emit ICapacityShares.SaleOpened(100e18, 12 * USDC, deadline);
        vm.prank(operator);
        shares.openSale(100e18, 12 * USDC, deadline);
        vm.prank(lessee2);
        usdc.approve(address(shares), type(uint256).max);
        vm.prank(lessee2);
        vm.expectRevert(abi.encodeWithSelector(ICapacityShares.SharesSalePriceAboveMax.selector, 12 * USDC, USDC));
        shares.buy(1e18, USDC);
        vm.prank(lessee2);
        vm.expectRevert(abi.encodeWithSelector(ICapacityShares.SharesSaleExceeded.selector, 101e18, 100e18));
        shares.buy(101e18, 12 * USDC);
        vm.prank(lessee2);
        vm.expectRevert(ICapacityShares.SharesZeroAmount.selector);
        shares.buy(0, 12 * USDC);
        vm.expectEmit(true, false, false, true, address(shares));
        emit ICapacityShares.SharesBought(lessee2, 1, 1); // 1 wei of a share still costs a unit: rounds up
        vm.prank(lessee2);
        shares.buy(1, 12 * USDC);
        vm.prank(lessee2);
        uint256 cost = shares.buy(10e18, 12 * USDC);
        assertEq(cost, 120 * USDC, "cost");
        assertEq(shares.balanceOf(lessee2), 10e18 + 1, "bought");
        assertEq(shares.proceeds(), 120 * USDC + 1, "proceeds");
        vm.prank(lessee2);
        vm.expectRevert(abi.encodeWithSelector(ICapacityShares.SharesOnlyOperator.selector, lessee2));
        shares.withdrawProceeds(lessee2);
        vm.prank(operator);
        shares.withdrawProceeds(operator);
        vm.warp(deadline + 1);
        vm.prank(lessee2);
        vm.expectRevert(ICapacityShares.SharesSaleClosed.selector);
        shares.buy(1e18, 12 * USDC);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(ICapacityShares.SharesInvalidSale.selector, 0, 1, deadline + 2));
        shares.openSale(0, 1, deadline + 2);
    }

    function test_restricted_OnlyAllowlistedHolders() public {
        AssetParams memory p = defaultAsset();
        p.restrictedTransfers = true;
        vm.prank(operator);
        uint256 id = registry.registerAsset(p);
        CapacityShares s = CapacityShares(registry.terms(id).shares);
        assertTrue(s.restricted(), "restricted");
        vm.prank(investor);
        vm.expectRevert(abi.encodeWithSelector(ICapacityShares.SharesTransferNotAllowed.selector, lessee));
        s.transfer(lessee, 1e18);
        vm.expectEmit(true, false, false, true, address(s));
        emit ICapacityShares.AllowlistUpdated(lessee, true);
        vm.prank(operator);
        s.setAllowed(lessee, true);
        vm.prank(investor);
        s.transfer(lessee, 1e18);
        assertEq(s.balanceOf(lessee), 1e18, "allowed transfer");
        assertTrue(s.isAllowed(lessee), "allowed");
        assertTrue(shares.isAllowed(address(0xdead)), "unrestricted asset allows all");
    }

    /// @dev Claims never exceed what was distributed, whatever the holdings and transfers.
    function testFuzz_claimsNeverExceedDistributed(uint256 moved, uint32 uptime) public {
        moved = bound(moved, 0, 600e18);
        openLease(lessee, 4, 2, LeaseClass.Firm);
        skipAndFinalize(0);
        reportAndFinalize(1, uint32(bound(uptime, 0, 10_000)));
        vm.prank(investor);
        shares.transfer(lessee2, moved);
        reportAndFinalize(2, 10_000);
        uint256 total = shares.claimable(investor) + shares.claimable(lessee2) + shares.claimable(operator);
        assertLe(total, shares.totalDistributed(), "claimable <= distributed");
        assertLe(shares.totalDistributed() - total, 3, "dust only");
    }
}

/// @notice The one-slot holder record at the extremes the registry allows: the smallest supply (one whole
///         share) and a lifetime of revenue far beyond any real asset's. This contract plays the market
///         ({SharesMarketStandIn}).
contract CapacitySharesWidthsTest is Test, SharesMarketStandIn {
    address private constant ALICE = address(0xA11CE);
    address private constant BOB = address(0xB0B);

    function setUp() public {
        _deployShares(1e18, ALICE, 1e18 - 3, BOB);
    }

    /// @dev A trillion dollars of a 6-decimal stablecoin in each of 1,000 epochs, over one whole share split
    ///      unevenly: every settlement still fits its slot and the books stay exact to the unit.
    function test_smallestSupply_HugeRevenue_SettlesAndClaimsExactly() public {
        uint256 perEpoch = 1e12 * 1e6;
        for (uint256 i; i < 1_000; ++i) {
            _distribute(perEpoch);
            vm.prank(ALICE);
            shares.transfer(BOB, 1);
        }
        uint256 owed = shares.claimable(ALICE) + shares.claimable(BOB);
        assertLe(owed, 1_000 * perEpoch, "never more than distributed");
        assertGe(owed + 1_000, 1_000 * perEpoch, "at most a unit of dust per distribution");
        vm.prank(ALICE);
        shares.claim(ALICE);
        vm.prank(BOB);
        shares.claim(BOB);
        assertEq(paid, owed, "paid what was claimable");
        assertEq(shares.totalClaimed(), paid, "books");
    }

    /// @dev The lifetime total has 96 bits: filling them exactly works, a unit more reverts with the value
    ///      (and the accumulator, at its largest, still fits its 160 bits).
    function test_distribute_RevertWhen_LifetimeTotalExceeds96Bits() public {
        _distribute(type(uint96).max);
        assertEq(shares.totalDistributed(), type(uint96).max, "filled");
        assertEq(shares.revenuePerShare(), uint256(type(uint96).max) * 1e18, "largest accumulator");
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 96, uint256(2) ** 96));
        shares.distribute(1);
    }
}
