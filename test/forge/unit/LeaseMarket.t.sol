// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AssetStatus} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {ILeaseMarket, Lease, LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {IMetricsOracle, Report} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {IERC4907} from "../../../contracts/interfaces/IERC4907.sol";
import {IStablecoinGuard} from "../../../contracts/interfaces/IStablecoinGuard.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {Fixture} from "../utils/Fixture.sol";

contract LeaseMarketTest is Fixture {
    // 4 of 8 GPUs -> utilization 50 %, multiplier 1 + 0.2 x 0.5/0.8 = 1.125 -> 2.25 USDC per GPU-hour
    uint256 internal constant PRICE_4_FIRM = 2_250_000;
    uint256 internal constant RATE_4_FIRM = 4 * PRICE_4_FIRM; // hourly epochs

    function test_openLease_PrepaysCurvePriceAndMintsPosition() public {
        uint256 before = usdc.balanceOf(lessee);
        vm.expectEmit(true, true, true, true, address(market));
        emit ILeaseMarket.LeaseOpened(
            1, assetId, lessee, LeaseClass.Firm, 4, 1, 11, PRICE_4_FIRM, RATE_4_FIRM, RATE_4_FIRM * 10
        );
        uint256 id = openLease(lessee, 4, 10, LeaseClass.Firm);
        assertEq(id, 1, "first lease id");
        assertEq(market.ownerOf(id), lessee, "position owner");
        assertEq(before - usdc.balanceOf(lessee), RATE_4_FIRM * 10, "prepaid");
        assertEq(usdc.balanceOf(address(market)), RATE_4_FIRM * 10, "escrow");
        assertEq(market.availableGpus(assetId), 4, "available");
        Lease memory l = market.leaseOf(id);
        assertEq(l.startEpoch, 1, "starts next epoch");
        assertEq(l.endEpoch, 11, "end");
        assertEq(market.leaseCount(), 1, "count");
    }

    function test_quote_IsMonotoneAndDiscountsInterruptible() public view {
        uint256 prev;
        for (uint32 g = 1; g <= GPUS; ++g) {
            uint256 p = market.quote(assetId, g, LeaseClass.Firm);
            assertGe(p, prev, "monotone");
            prev = p;
        }
        assertEq(market.quote(assetId, 4, LeaseClass.Interruptible), PRICE_4_FIRM * 7_000 / 10_000, "discount");
        // above the kink: 8/8 -> 1 + 0.2 + 2.0 x 0.2/0.2 = 3.2
        assertEq(market.quote(assetId, 8, LeaseClass.Firm), 6_400_000, "full utilization");
    }

    function test_openLease_RevertWhen_CapacityExceeded() public {
        openLease(lessee, 6, 5, LeaseClass.Firm);
        vm.prank(lessee2);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketCapacityExceeded.selector, assetId, 3, 2));
        market.openLease(assetId, 3, 5, LeaseClass.Firm, type(uint256).max);
    }

    function test_openLease_RevertWhen_PriceAboveMax() public {
        vm.prank(lessee);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketPriceAboveMax.selector, PRICE_4_FIRM, 2 * USDC));
        market.openLease(assetId, 4, 5, LeaseClass.Firm, 2 * USDC);
    }

    function test_openLease_RevertWhen_BadInput() public {
        vm.startPrank(lessee);
        vm.expectRevert(ILeaseMarket.MarketZeroGpus.selector);
        market.openLease(assetId, 0, 5, LeaseClass.Firm, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketInvalidDuration.selector, 0, 1_000_000));
        market.openLease(assetId, 1, 0, LeaseClass.Firm, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketAssetNotLeasable.selector, 99));
        market.openLease(99, 1, 1, LeaseClass.Firm, type(uint256).max);
        vm.stopPrank();
        vm.prank(operator);
        registry.setStatus(assetId, AssetStatus.Paused);
        vm.prank(lessee);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketAssetNotLeasable.selector, assetId));
        market.openLease(assetId, 1, 1, LeaseClass.Firm, type(uint256).max);
    }

    function test_settlement_FullLifecycle() public {
        uint256 id = openLease(lessee, 4, 3, LeaseClass.Firm); // epochs 1..3
        skipAndFinalize(0);
        reportAndFinalize(1, 10_000); // fully delivered
        reportAndFinalize(2, 9_500); // below the 99 % SLA
        skipAndFinalize(3); // no report: nothing delivered
        uint256 r = RATE_4_FIRM;
        uint256 delivered = r + r * 9_500 / 10_000;
        // refund: 5 % of epoch 2 + all of epoch 3; credit: (99 % - 95 %) of epoch 2 + 99 % of epoch 3
        (uint256 refund, uint256 credit) = market.refundable(id);
        assertEq(refund, 3 * r - delivered, "refund of undelivered time");
        assertEq(credit, r * 400 / 10_000 + r * 9_900 / 10_000, "service credit");
        assertEq(registry.bondOf(assetId), 10_000 * USDC - credit, "credit came from the bond");

        uint256 protocolFee = delivered * 500 / 10_000;
        uint256 operatorFee = delivered * 1_000 / 10_000;
        uint256 holders = delivered - protocolFee - operatorFee;
        assertEq(market.protocolFees(), protocolFee, "protocol fee");
        assertEq(market.feesOf(operator), operatorFee, "operator fee");
        assertEq(shares.claimable(investor), holders * 60 / 100, "investor 60 %");
        assertEq(shares.claimable(operator), holders * 40 / 100, "operator 40 %");

        uint256 before = usdc.balanceOf(lessee);
        vm.expectEmit(true, true, false, true, address(market));
        emit ILeaseMarket.LeaseRefunded(id, lessee, refund, credit);
        vm.prank(lessee);
        market.claimRefund(id, lessee);
        assertEq(usdc.balanceOf(lessee) - before, refund + credit, "paid out");
        (refund, credit) = market.refundable(id);
        assertEq(refund + credit, 0, "nothing left");
        vm.prank(lessee);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketNothingToRefund.selector, id));
        market.claimRefund(id, lessee);

        vm.prank(investor);
        shares.claim(investor);
        vm.prank(operator);
        shares.claim(operator);
        vm.prank(operator);
        market.withdrawFees(operator);
        vm.prank(treasury);
        market.withdrawFees(treasury);
        assertLe(usdc.balanceOf(address(market)), 1, "only rounding dust remains");
    }

    function test_settlement_InterruptibleNotChargedForCurtailment() public {
        uint256 firm = openLease(lessee, 2, 1, LeaseClass.Firm);
        uint256 intr = openLease(lessee2, 2, 1, LeaseClass.Interruptible);
        bytes32 id = declareEvent(bytes32("ERCOT-EEA-1"), epochStart(1), epochStart(1) + EPOCH / 2);
        skipAndFinalize(0);
        reportCurtailed(1, 10_000, 5_000, id);
        market.finalizeEpoch(assetId, 1);
        (uint256 firmRefund,) = market.refundable(firm);
        (uint256 intRefund,) = market.refundable(intr);
        assertEq(firmRefund, 0, "firm lease charged in full");
        assertEq(intRefund, market.leaseOf(intr).ratePerEpoch / 2, "interruptible refunded the curtailed half");
    }

    function test_closeLease_RefundsUnstartedEpochs() public {
        uint256 id = openLease(lessee, 4, 10, LeaseClass.Firm);
        vm.warp(epochStart(3)); // epochs 1, 2 started and 3 is current
        uint256 before = usdc.balanceOf(lessee);
        vm.expectEmit(true, false, false, true, address(market));
        emit ILeaseMarket.LeaseClosed(id, 11, 4, RATE_4_FIRM * 7);
        vm.prank(lessee);
        assertEq(market.closeLease(id), RATE_4_FIRM * 7, "epochs 4..10 credited to the lease");
        assertEq(usdc.balanceOf(lessee), before, "closing pays nobody: the refund stays with the lease");
        (uint256 refund,) = market.refundable(id);
        assertEq(refund, RATE_4_FIRM * 7, "claimable by the lease's holder");
        vm.prank(lessee);
        market.claimRefund(id, lessee);
        assertEq(usdc.balanceOf(lessee) - before, RATE_4_FIRM * 7, "epochs 4..10 returned");
        assertEq(market.leaseOf(id).endEpoch, 4, "ends after the current epoch");
        vm.prank(lessee);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketLeaseEnded.selector, id, 4));
        market.closeLease(id);
        // settle epochs 0..3: capacity is released once epoch 3 is final
        skipAndFinalize(0);
        reportAndFinalize(1, 10_000);
        reportAndFinalize(2, 10_000);
        assertEq(market.availableGpus(assetId), 4, "still committed through epoch 3");
        reportAndFinalize(3, 10_000);
        assertEq(market.availableGpus(assetId), 8, "released");
    }

    function test_closeLease_CancelsBeforeStart_ForOneEpochsRate() public {
        uint256 id = openLease(lessee, 8, 5, LeaseClass.Interruptible);
        uint256 rate = market.leaseOf(id).ratePerEpoch;
        uint256 before = usdc.balanceOf(lessee);
        uint256 holdersBefore = market.ledgerOf(assetId).holdersRevenue;
        vm.expectEmit(true, false, false, true, address(market));
        emit ILeaseMarket.LeaseCancelled(id, rate);
        vm.prank(lessee);
        assertEq(market.closeLease(id), rate * 4, "all but one epoch's rate credited");
        vm.prank(lessee);
        market.claimRefund(id, lessee);
        assertEq(usdc.balanceOf(lessee) - before, rate * 4, "refund of the term less the cancellation charge");
        // the charge is split like revenue: 5 % protocol, 10 % operator, the rest to the holders
        uint256 protocolFee = rate * 500 / 10_000;
        uint256 operatorFee = rate * 1_000 / 10_000;
        assertEq(market.ledgerOf(assetId).holdersRevenue - holdersBefore, rate - protocolFee - operatorFee, "holders");
        assertEq(market.feesOf(operator), operatorFee, "operator fee");
        assertEq(market.availableGpus(assetId), 8, "capacity freed at once");
        skipAndFinalize(0);
        skipAndFinalize(1);
        assertEq(market.ledgerOf(assetId).interruptibleRate, 0, "no rate scheduled");
    }

    function test_extendLease_PaysAtTheLeaseRateAndKeepsTheGpus() public {
        uint256 id = openLease(lessee, 4, 3, LeaseClass.Firm); // epochs 1..3
        openLease(lessee2, 4, 1, LeaseClass.Firm); // the curve moves: a new lease would cost more
        vm.warp(epochStart(2));
        uint256 before = usdc.balanceOf(lessee);
        vm.expectEmit(true, false, false, true, address(market));
        emit ILeaseMarket.LeaseExtended(id, 4, 6, RATE_4_FIRM * 2);
        vm.prank(lessee);
        assertEq(market.extendLease(id, 2), RATE_4_FIRM * 2, "paid");
        assertEq(before - usdc.balanceOf(lessee), RATE_4_FIRM * 2, "two more epochs at the lease's own rate");
        assertEq(market.leaseOf(id).endEpoch, 6, "ends two epochs later");
        skipAndFinalize(0);
        for (uint64 e = 1; e < 5; ++e) {
            reportAndFinalize(e, 10_000);
        }
        assertEq(market.availableGpus(assetId), 4, "its GPUs still committed");
        reportAndFinalize(5, 10_000);
        assertEq(market.ledgerOf(assetId).firmRate, RATE_4_FIRM, "epoch 5 charged");
        assertEq(market.availableGpus(assetId), 8, "released after its last epoch");
        reportAndFinalize(6, 10_000);
        assertEq(market.ledgerOf(assetId).firmRate, 0, "not charged after it");
    }

    function test_extendLease_ThenClose_RefundsTheExtension() public {
        uint256 id = openLease(lessee, 2, 2, LeaseClass.Interruptible);
        uint128 rate = market.leaseOf(id).ratePerEpoch;
        vm.prank(lessee);
        market.extendLease(id, 5);
        uint256 before = usdc.balanceOf(lessee);
        vm.startPrank(lessee);
        market.closeLease(id); // before it starts: everything back but one epoch's charge
        market.claimRefund(id, lessee);
        vm.stopPrank();
        assertEq(usdc.balanceOf(lessee) - before, uint256(rate) * 6, "both the lease and its extension");
        assertEq(market.availableGpus(assetId), 8, "capacity freed");
        skipAndFinalize(0);
        skipAndFinalize(1);
        assertEq(market.ledgerOf(assetId).interruptibleRate, 0, "nothing scheduled");
    }

    function test_extendLease_AnyonePays_TheLeaseKeepsTheValue() public {
        uint256 id = openLease(lessee, 1, 2, LeaseClass.Firm); // epochs 1..2
        uint256 before = usdc.balanceOf(lessee2);
        vm.prank(lessee2);
        uint256 paid = market.extendLease(id, 1);
        assertEq(before - usdc.balanceOf(lessee2), paid, "the payer paid");
        assertEq(market.ownerOf(id), lessee, "the lease stays its owner's");
        vm.prank(lessee2);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketNotLeaseOwner.selector, id, lessee2));
        market.closeLease(id);
    }

    function test_extendLease_RevertWhen_BadInput() public {
        uint256 id = openLease(lessee, 1, 2, LeaseClass.Firm); // epochs 1..2
        uint64 max = market.MAX_LEASE_EPOCHS();
        vm.startPrank(lessee);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketInvalidDuration.selector, 0, max));
        market.extendLease(id, 0);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketInvalidDuration.selector, max - 1, max));
        market.extendLease(id, max - 1);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketNotLeaseOwner.selector, 99, lessee));
        market.extendLease(99, 1);
        vm.warp(epochStart(3)); // epoch 2, its last, has ended
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketLeaseEnded.selector, id, 3));
        market.extendLease(id, 1);
        vm.stopPrank();
        uint256 cancelled = openLease(lessee, 1, 2, LeaseClass.Firm);
        vm.startPrank(lessee);
        market.closeLease(cancelled);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketLeaseEnded.selector, cancelled, 4));
        market.extendLease(cancelled, 1);
        vm.stopPrank();
    }

    function test_closeLease_RevertWhen_NotOwner() public {
        uint256 id = openLease(lessee, 1, 2, LeaseClass.Firm);
        vm.prank(lessee2);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketNotLeaseOwner.selector, id, lessee2));
        market.closeLease(id);
    }

    function test_finalize_RevertWhen_OutOfOrderOrNotReady() public {
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketEpochOutOfOrder.selector, assetId, 1, 0));
        market.finalizeEpoch(assetId, 1);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketEpochNotFinalizable.selector, assetId, 0));
        market.finalizeEpoch(assetId, 0);
        // a report inside its challenge window is not final either
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketEpochNotFinalizable.selector, assetId, 0));
        market.finalizeEpoch(assetId, 0);
    }

    function test_finalizeEpochs_StopsAtFirstUnready() public {
        vm.warp(epochStart(5) + DEADLINE + 1); // epochs 0..4 are past their deadline
        assertEq(market.finalizeEpochs(assetId, 100), 5, "five idle epochs settled");
        assertEq(market.ledgerOf(assetId).nextEpochToFinalize, 5, "next");
    }

    function test_finalize_EmitsEpochSettled() public {
        openLease(lessee, 4, 1, LeaseClass.Firm);
        skipAndFinalize(0);
        reportAndWaitWindow(1, 10_000);
        uint256 d = RATE_4_FIRM;
        vm.expectEmit(true, true, false, true, address(market));
        emit ILeaseMarket.EpochSettled(
            assetId, 1, true, 10_000, 0, d, d * 500 / 10_000, d / 10, d - d * 500 / 10_000 - d / 10, 0
        );
        market.finalizeEpoch(assetId, 1);
    }

    function test_leaseTransfer_MovesRefundsAndClearsUser() public {
        uint256 id = openLease(lessee, 2, 2, LeaseClass.Firm);
        vm.prank(lessee);
        vm.expectEmit(true, true, false, true, address(market));
        emit IERC4907.UpdateUser(id, address(0xBEEF), uint64(block.timestamp + 1 days));
        market.setUser(id, address(0xBEEF), uint64(block.timestamp + 1 days));
        assertEq(market.userOf(id), address(0xBEEF), "user set");
        assertEq(market.userExpires(id), block.timestamp + 1 days, "expiry");
        vm.prank(lessee);
        market.transferFrom(lessee, lessee2, id);
        assertEq(market.userOf(id), address(0), "user cleared on transfer");
        skipAndFinalize(0);
        skipAndFinalize(1);
        vm.prank(lessee);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketNotLeaseOwner.selector, id, lessee));
        market.claimRefund(id, lessee);
        vm.prank(lessee2);
        (uint256 refund,) = market.claimRefund(id, lessee2);
        assertEq(refund, market.leaseOf(id).ratePerEpoch, "new owner refunded the unreported epoch");
        assertTrue(market.supportsInterface(type(IERC4907).interfaceId), "ERC-4907");
        assertTrue(market.supportsInterface(0x80ac58cd), "ERC-721");
    }

    function test_withdrawFees_RevertWhen_Nothing() public {
        vm.prank(lessee);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketNothingToClaim.selector, lessee));
        market.withdrawFees(lessee);
    }

    function test_payHolderRevenue_RevertWhen_NotShares() public {
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketOnlyShares.selector, assetId, address(this)));
        market.payHolderRevenue(assetId, address(this), 1);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketOnlyRegistry.selector, address(this)));
        market.onAssetRegistered(7, address(this));
    }

    function test_blocklistedHolder_CannotBlockOthers() public {
        openLease(lessee, 4, 1, LeaseClass.Firm);
        skipAndFinalize(0);
        vm.prank(admin);
        usdc.setBlocklisted(investor, true);
        reportAndFinalize(1, 10_000); // settlement is not a transfer to anyone
        vm.prank(operator);
        shares.claim(operator);
        vm.prank(operator);
        market.withdrawFees(operator);
        vm.prank(investor);
        vm.expectRevert(abi.encodeWithSelector(IStablecoinGuard.StablecoinAccountFrozen.selector, investor));
        shares.claim(address(0xF4E5)); // not to a fresh address
        vm.prank(investor);
        vm.expectRevert(abi.encodeWithSelector(TestStablecoin.StablecoinBlocklisted.selector, investor));
        shares.claim(investor); // nor to itself: the token refuses a frozen recipient
        uint256 owed = shares.claimable(investor);
        assertTrue(owed > 0, "investor still owed");
        // a blocklisted holder cannot receive, but its revenue is kept until it can
        vm.prank(admin);
        usdc.setBlocklisted(investor, false);
        vm.prank(investor);
        assertEq(shares.claim(investor), owed, "claimed later, nothing lost");
    }

    /// @dev Whatever the uptimes, escrow pays exactly: refunds + revenue + fees == prepaid (up to dust).
    function testFuzz_settlement_Conserves(uint32 gpus, uint64 epochs, uint32[4] memory uptimes, bool firm) public {
        gpus = uint32(bound(gpus, 1, GPUS));
        epochs = uint64(bound(epochs, 1, 4));
        LeaseClass class = firm ? LeaseClass.Firm : LeaseClass.Interruptible;
        uint256 id = openLease(lessee, gpus, epochs, class);
        uint256 prepaid = uint256(market.leaseOf(id).ratePerEpoch) * epochs;
        uint256 bondBefore = registry.bondOf(assetId);
        skipAndFinalize(0);
        for (uint64 e = 1; e <= epochs; ++e) {
            reportAndFinalize(e, uint32(bound(uptimes[e - 1], 0, 10_000)));
        }
        (uint256 refund, uint256 credit) = market.refundable(id);
        uint256 revenue = market.protocolFees() + market.feesOf(operator) + market.ledgerOf(assetId).holdersRevenue;
        uint256 slashed = bondBefore - registry.bondOf(assetId);
        // the bond is drawn rounded up per epoch, each lease is credited rounded down
        assertLe(credit, slashed, "credits never exceed what the bond paid in");
        assertLe(slashed - credit, epochs, "one unit of dust per epoch at most");
        assertLe(revenue + refund, prepaid, "never pays out more than was prepaid");
        assertLe(prepaid - revenue - refund, 1, "at most one unit of rounding dust");
        assertEq(usdc.balanceOf(address(market)), prepaid, "market holds every owed unit");
        assertEq(registry.slashedFor(address(market)), slashed, "the registry holds the credits for it");
        assertEq(market.owed(), prepaid, "owed: escrow and revenue, nothing swept");
    }
}
