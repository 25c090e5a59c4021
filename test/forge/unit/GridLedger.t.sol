// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AssetParams} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {GridEvent, GridEventSource, IGridLedger, StoredGridEvent} from "../../../contracts/interfaces/IGridLedger.sol";
import {ILeaseMarket, LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {IMetricsOracle, Report} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice Grid events, certificates, curtailment caps and energy income.
contract GridLedgerTest is Fixture {
    bytes32 internal constant EEA = bytes32("ERCOT-EEA-2026-08-14");
    uint256 internal constant STRANGER_KEY = 0x5757;

    function _declare(GridEvent memory ev, uint256 key) internal returns (bytes32) {
        return grid.declareEvent(ev, signEvent(key, ev));
    }

    function _expectDeclareRevert(GridEvent memory ev, uint256 key, bytes memory err) internal {
        bytes memory sig = signEvent(key, ev);
        vm.expectRevert(err);
        grid.declareEvent(ev, sig);
    }

    /// @dev A second asset whose only attestor is the stranger (f = 0).
    function _otherAsset() internal returns (uint256 id) {
        AssetParams memory p = defaultAsset();
        p.attestors = new address[](1);
        p.attestors[0] = vm.addr(STRANGER_KEY);
        p.faultTolerance = 0;
        vm.prank(operator);
        id = registry.registerAsset(p);
    }

    // ---------------------------------------------------------------- events

    function test_declareEvent_ManualByOperatorAndOpenAdrByAttestor() public {
        uint256 t0 = block.timestamp;
        GridEvent memory manual = gridEvent(EEA, GridEventSource.Manual, t0, t0 + 600);
        bytes32 id = grid.declarationId(assetId, EEA, operator);
        assertEq(id, keccak256(abi.encode(assetId, EEA, operator)), "scoped to the asset and the signer");
        vm.expectEmit(true, true, true, true, address(grid));
        emit IGridLedger.GridEventDeclared(
            assetId, id, EEA, GridEventSource.Manual, uint64(t0), uint64(t0 + 600), manual.payloadHash, operator
        );
        assertEq(_declare(manual, operatorKey), id, "returns its declaration id");
        StoredGridEvent memory e = grid.eventOf(id);
        assertEq(e.assetId, assetId, "asset");
        assertEq(e.endsAt, t0 + 600, "end");
        assertTrue(e.source == GridEventSource.Manual, "source");
        // events may overlap: each only bounds the reports that name it
        bytes32 oadr =
            _declare(gridEvent(bytes32("oadr-1"), GridEventSource.OpenAdr, t0 + 300, t0 + 900), attestorKeys[1]);
        assertEq(grid.eventOf(oadr).startsAt, t0 + 300, "overlapping event recorded");
        assertTrue(grid.supportsInterface(type(IGridLedger).interfaceId), "ERC-165");
    }

    function test_declareEvent_RevertWhen_BadWindowOrReplay() public {
        uint256 t0 = block.timestamp;
        _expectDeclareRevert(
            gridEvent(bytes32(0), GridEventSource.Manual, t0, t0 + 60),
            operatorKey,
            abi.encodeWithSelector(IGridLedger.GridZeroEventId.selector)
        );
        _expectDeclareRevert(
            gridEvent(EEA, GridEventSource.Manual, t0 + 60, t0 + 60),
            operatorKey,
            abi.encodeWithSelector(IGridLedger.GridInvalidWindow.selector, t0 + 60, t0 + 60, 1 days)
        );
        _expectDeclareRevert(
            gridEvent(EEA, GridEventSource.Manual, t0, t0 + 1 days + 1),
            operatorKey,
            abi.encodeWithSelector(IGridLedger.GridInvalidWindow.selector, t0, t0 + 1 days + 1, 1 days)
        );
        // expired: its window is over before it reaches the chain
        _expectDeclareRevert(
            gridEvent(EEA, GridEventSource.Manual, t0 - 600, t0),
            operatorKey,
            abi.encodeWithSelector(IGridLedger.GridEventExpired.selector, EEA, t0, t0)
        );
        GridEvent memory ev = gridEvent(EEA, GridEventSource.Manual, t0, t0 + 600);
        bytes32 id = _declare(ev, operatorKey);
        _expectDeclareRevert(ev, operatorKey, abi.encodeWithSelector(IGridLedger.GridEventExists.selector, id));
        GridEvent memory unknown = gridEvent(bytes32("EEA-3"), GridEventSource.Manual, t0 + 600, t0 + 900);
        unknown.assetId = 99;
        _expectDeclareRevert(unknown, operatorKey, abi.encodeWithSelector(IGridLedger.GridUnknownAsset.selector, 99));
    }

    /// @notice The review's squatting attack: one attestor declares an event far in the future, after which
    ///         every real event of the asset overlapped it for ever. The horizon refuses it, and no declaration
    ///         blocks another.
    function test_declareEvent_SquattingRefusedAndNeverBlocksRealEvents() public {
        uint256 t0 = block.timestamp;
        uint256 horizon = t0 + 1 days;
        _expectDeclareRevert(
            gridEvent(bytes32("squat"), GridEventSource.OpenAdr, horizon + 1, horizon + 600),
            attestorKeys[2],
            abi.encodeWithSelector(IGridLedger.GridEventBeyondHorizon.selector, horizon + 1, horizon)
        );
        // at the horizon itself it is accepted, and a real event now is still declared after it
        _declare(gridEvent(bytes32("squat"), GridEventSource.OpenAdr, horizon, horizon + 600), attestorKeys[2]);
        bytes32 real = _declare(gridEvent(EEA, GridEventSource.OpenAdr, t0, t0 + 900), attestorKeys[0]);
        assertEq(grid.eventOf(real).endsAt, t0 + 900, "the real event is recorded");
    }

    /// @notice The review's squatting attack: another asset's attestor took a site's event id first. Ids are
    ///         scoped to the asset and the signer, so the same program event id declares for each.
    function test_declareEvent_AnotherAssetCannotTakeTheId() public {
        uint256 t0 = block.timestamp;
        uint256 other = _otherAsset();
        GridEvent memory theirs = gridEvent(EEA, GridEventSource.OpenAdr, t0, t0 + 60);
        theirs.assetId = other;
        bytes32 theirId = _declare(theirs, STRANGER_KEY);
        bytes32 ours = _declare(gridEvent(EEA, GridEventSource.OpenAdr, t0, t0 + 900), attestorKeys[0]);
        assertTrue(ours != theirId, "distinct declarations");
        (bool known, uint64 secs) = grid.overlap(ours, assetId, uint64(t0), uint64(t0 + 3600));
        assertTrue(known && secs == 900, "ours covers our window");
        // and the same attestor set's other members can declare the same program event for the asset too
        bytes32 second = _declare(gridEvent(EEA, GridEventSource.OpenAdr, t0, t0 + 900), attestorKeys[1]);
        assertTrue(second != ours, "per signer");
    }

    function test_declareEvent_RevertWhen_UnsignedOrSignedByTheWrongParty() public {
        uint256 t0 = block.timestamp;
        GridEvent memory manual = gridEvent(EEA, GridEventSource.Manual, t0, t0 + 600);
        // a manual notice is the operator's word, not an attestor's
        _expectDeclareRevert(
            manual,
            attestorKeys[0],
            abi.encodeWithSelector(
                IGridLedger.GridUnauthorizedSigner.selector, assetId, GridEventSource.Manual, attestorAddrs[0]
            )
        );
        GridEvent memory oadr = gridEvent(EEA, GridEventSource.OpenAdr, t0, t0 + 600);
        _expectDeclareRevert(
            oadr,
            STRANGER_KEY,
            abi.encodeWithSelector(
                IGridLedger.GridUnauthorizedSigner.selector, assetId, GridEventSource.OpenAdr, vm.addr(STRANGER_KEY)
            )
        );
        // no signature at all
        vm.expectRevert();
        grid.declareEvent(oadr, "");
        // an event for another site: its attestor signs for its own asset, relayed for ours
        uint256 other = _otherAsset();
        GridEvent memory theirs = gridEvent(EEA, GridEventSource.OpenAdr, t0, t0 + 600);
        theirs.assetId = other;
        bytes memory sig = signEvent(STRANGER_KEY, theirs);
        theirs.assetId = assetId;
        vm.expectPartialRevert(IGridLedger.GridUnauthorizedSigner.selector);
        grid.declareEvent(theirs, sig);
        assertEq(grid.eventOf(grid.declarationId(assetId, EEA, vm.addr(STRANGER_KEY))).endsAt, 0, "nothing recorded");
    }

    function test_overlap_SecondsInsideTheEventOfItsAssetOnly() public {
        uint256 t0 = block.timestamp;
        bytes32 id = declareEvent(EEA, t0 + 100, t0 + 400);
        (bool known, uint64 secs) = grid.overlap(id, assetId, uint64(t0), uint64(t0 + 300));
        assertTrue(known, "known");
        assertEq(secs, 200, "[100, 300)");
        (, secs) = grid.overlap(id, assetId, uint64(t0 + 400), uint64(t0 + 900));
        assertEq(secs, 0, "after the event");
        (known,) = grid.overlap(id, assetId + 1, uint64(t0), uint64(t0 + 300));
        assertFalse(known, "another asset's event is not ours");
        (known,) = grid.overlap(EEA, assetId, uint64(t0), uint64(t0 + 300));
        assertFalse(known, "the program's id is not a declaration");
    }

    // ---------------------------------------------------------------- reports under an event

    function _submitCurtailed(uint32 curtailedBps, bytes32 declared, bytes memory err) internal {
        Report memory r = curtailedReport(0, 10_000, curtailedBps, declared);
        bytes memory cosigs = cosignFirst(r, 2);
        if (err.length != 0) vm.expectRevert(err);
        oracle.submitReport(r, cosigs);
    }

    function test_submitReport_CurtailmentOnlyInsideADeclaredEventOfTheAsset() public {
        bytes32 id = declareEvent(EEA, epochStart(0) + 900, epochStart(0) + 1800); // a quarter of epoch 0
        vm.warp(epochStart(1));
        _submitCurtailed(
            2_501, id, abi.encodeWithSelector(IMetricsOracle.OracleCurtailmentOutsideEvent.selector, id, 2_501, 2_500)
        );
        _submitCurtailed(
            2_500,
            bytes32("never-declared"),
            abi.encodeWithSelector(IMetricsOracle.OracleUnknownGridEvent.selector, assetId, bytes32("never-declared"))
        );
        // curtailment with no event at all
        _submitCurtailed(
            2_500,
            bytes32(0),
            abi.encodeWithSelector(IMetricsOracle.OracleUnknownGridEvent.selector, assetId, bytes32(0))
        );
        _submitCurtailed(2_500, id, "");
        assertEq(oracle.reportOf(assetId, 0).curtailedBps, 2_500, "accepted at the event's share");
    }

    function test_submitReport_RevertWhen_EventOfAnotherAsset() public {
        uint256 other = _otherAsset();
        GridEvent memory theirs = gridEvent(EEA, GridEventSource.OpenAdr, epochStart(0), epochStart(1));
        theirs.assetId = other;
        bytes32 theirId = _declare(theirs, STRANGER_KEY);
        vm.warp(epochStart(1));
        _submitCurtailed(
            1_000, theirId, abi.encodeWithSelector(IMetricsOracle.OracleUnknownGridEvent.selector, assetId, theirId)
        );
    }

    // ---------------------------------------------------------------- curtailment cap

    function test_settlement_CurtailmentPastTheCapIsCreditedToInterruptibleLeases() public {
        // the fixture's cap: 2 hours per 30 days; epochs are 1 hour
        uint256 firm = openLease(lessee, 2, 3, LeaseClass.Firm);
        uint256 intr = openLease(lessee2, 2, 3, LeaseClass.Interruptible);
        bytes32 id = declareEvent(EEA, epochStart(1), epochStart(4));
        skipAndFinalize(0);
        for (uint64 e = 1; e <= 2; ++e) {
            reportCurtailed(e, 10_000, 10_000, id);
            market.finalizeEpoch(assetId, e);
        }
        (, uint32 used) = grid.curtailmentOf(assetId);
        uint16 cap = registry.terms(assetId).curtailmentCapHours;
        assertEq(used, 7_200, "two hours counted");
        assertEq(cap, 2, "cap");
        (, uint256 creditSoFar) = market.refundable(intr);
        assertEq(creditSoFar, 0, "within the cap: no credit");

        uint128 rate = market.leaseOf(intr).ratePerEpoch;
        uint256 bondBefore = registry.bondOf(assetId);
        reportCurtailed(3, 10_000, 10_000, id);
        vm.expectEmit(true, true, false, true, address(market));
        emit ILeaseMarket.CurtailmentCapExceeded(assetId, 3, 0, 10_000, rate);
        market.finalizeEpoch(assetId, 3);
        (uint256 refund, uint256 credit) = market.refundable(intr);
        assertEq(refund, uint256(rate) * 3, "never charged for curtailed time");
        assertEq(credit, rate, "the third hour, past the cap, credited again from the bond");
        assertEq(bondBefore - registry.bondOf(assetId), rate, "the bond paid it");
        (uint256 firmRefund, uint256 firmCredit) = market.refundable(firm);
        assertEq(firmRefund + firmCredit, 0, "firm leases are never curtailed: charged in full");
        vm.prank(lessee2);
        market.claimRefund(intr, lessee2);
    }

    function test_settlement_CapCountsPer30DayPeriod() public {
        openLease(lessee2, 2, 1, LeaseClass.Interruptible);
        bytes32 id = declareEvent(EEA, epochStart(1), epochStart(2));
        skipAndFinalize(0);
        reportCurtailed(1, 10_000, 5_000, id);
        market.finalizeEpoch(assetId, 1);
        (uint32 period, uint32 used) = grid.curtailmentOf(assetId);
        assertEq(period, 0, "first period");
        assertEq(used, 1_800, "half an hour");

        uint64 next = 30 * 24; // the first epoch of the second 30-day period
        vm.warp(epochStart(next) - 10);
        bytes32 id2 = declareEvent(bytes32("EEA-2"), epochStart(next), epochStart(next + 1));
        openLease(lessee2, 2, 1, LeaseClass.Interruptible);
        vm.warp(epochStart(next + 1) + 1); // every epoch before `next` is past its report deadline
        assertEq(market.finalizeEpochs(assetId, next - 2), next - 2, "epochs 2 .. next-1 unreported");
        reportCurtailed(next, 10_000, 10_000, id2);
        market.finalizeEpoch(assetId, next);
        (period, used) = grid.curtailmentOf(assetId);
        assertEq(period, 1, "second period");
        assertEq(used, 3_600, "counted afresh");
    }

    function test_capAccounting_OnlyTheLeaseMarket() public {
        vm.expectRevert(abi.encodeWithSelector(IGridLedger.GridOnlyMarket.selector, address(this)));
        grid.countCurtailment(assetId, 1, EPOCH, 100, 10_000);
        vm.expectRevert(abi.encodeWithSelector(IGridLedger.GridOnlyMarket.selector, operator));
        vm.prank(operator);
        grid.recordCapCredit(assetId, 1, 1e8);
        assertEq(grid.capCreditBetween(assetId, 0, 10), 0, "nothing recorded");
    }

    // ---------------------------------------------------------------- certificates

    function test_retireCertificates_EachAtMostOnce() public {
        bytes32[] memory ids = new bytes32[](2);
        ids[0] = keccak256("ERCOT-REC-000123");
        ids[1] = keccak256("ERCOT-REC-000124");
        uint64[] memory wh = new uint64[](2);
        wh[0] = 1_000_000;
        wh[1] = 500_000;
        vm.expectEmit(true, true, true, true, address(grid));
        emit IGridLedger.CertificateRetired(assetId, 3, ids[0], 1_000_000);
        vm.prank(operator);
        grid.retireCertificates(assetId, 3, ids, wh);
        assertEq(grid.retiredWh(assetId, 3), 1_500_000, "retired energy");
        (uint256 usedBy, uint64 epoch) = grid.certificateUse(ids[1]);
        assertEq(usedBy, assetId, "asset");
        assertEq(epoch, 3, "epoch");

        bytes32[] memory again = new bytes32[](1);
        again[0] = ids[1];
        uint64[] memory one = new uint64[](1);
        one[0] = 1;
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IGridLedger.GridCertificateUsed.selector, ids[1], assetId, 3));
        grid.retireCertificates(assetId, 4, again, one);
        // not in another asset's name either
        uint256 other = _otherAsset();
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IGridLedger.GridCertificateUsed.selector, ids[1], assetId, 3));
        grid.retireCertificates(other, 0, again, one);
    }

    function test_retireCertificates_RevertWhen_BadInput() public {
        bytes32[] memory ids = new bytes32[](1);
        ids[0] = keccak256("REC-1");
        uint64[] memory wh = new uint64[](1);
        wh[0] = 10;
        vm.expectRevert(abi.encodeWithSelector(IGridLedger.GridNotOperator.selector, assetId, lessee));
        vm.prank(lessee);
        grid.retireCertificates(assetId, 0, ids, wh);
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(IGridLedger.GridUnknownAsset.selector, 99));
        grid.retireCertificates(99, 0, ids, wh);
        vm.expectRevert(abi.encodeWithSelector(IGridLedger.GridLengthMismatch.selector, 1, 0));
        grid.retireCertificates(assetId, 0, ids, new uint64[](0));
        vm.expectRevert(abi.encodeWithSelector(IGridLedger.GridInvalidCertificateCount.selector, 0, 64));
        grid.retireCertificates(assetId, 0, new bytes32[](0), new uint64[](0));
        vm.expectRevert(abi.encodeWithSelector(IGridLedger.GridInvalidCertificateCount.selector, 65, 64));
        grid.retireCertificates(assetId, 0, new bytes32[](65), new uint64[](65));
        wh[0] = 0;
        vm.expectRevert(abi.encodeWithSelector(IGridLedger.GridInvalidCertificate.selector, 0, ids[0], 0));
        grid.retireCertificates(assetId, 0, ids, wh);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- energy income

    function test_depositEnergyIncome_ReachesHoldersLikeLeaseRevenue() public {
        bytes32 id = declareEvent(EEA, block.timestamp, block.timestamp + 600);
        uint256 amount = 31_700 * USDC;
        uint256 protocolFee = amount * 500 / 10_000;
        uint256 operatorFee = amount * 1_000 / 10_000;
        uint256 holders = amount - protocolFee - operatorFee;
        uint256 investorBefore = shares.claimable(investor);
        vm.expectEmit(true, true, true, true, address(market));
        emit ILeaseMarket.EnergyIncomeDeposited(assetId, id, operator, amount, protocolFee, operatorFee, holders);
        vm.prank(operator);
        market.depositEnergyIncome(assetId, amount, id);
        (uint256 total, uint256 toHolders) = market.energyIncomeOf(assetId);
        assertEq(total, amount, "per asset");
        assertEq(toHolders, holders, "the holders' part");
        assertEq(market.ledgerOf(assetId).holdersRevenue, holders, "holders' revenue");
        assertEq(market.feesOf(operator), operatorFee, "operator fee");
        assertEq(market.protocolFees(), protocolFee, "protocol fee");
        // the investor holds 600 of 1,000 shares
        assertApproxEqAbs(shares.claimable(investor) - investorBefore, holders * 6 / 10, 1, "investor's part");
        uint256 before = usdc.balanceOf(investor);
        vm.prank(investor);
        shares.claim(investor);
        assertApproxEqAbs(usdc.balanceOf(investor) - before, holders * 6 / 10, 1, "paid out");
    }

    function test_depositEnergyIncome_RevertWhen_BadInput() public {
        vm.prank(lessee);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketNotOperator.selector, assetId, lessee));
        market.depositEnergyIncome(assetId, 100 * USDC, EEA);
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketUnknownAsset.selector, 99));
        market.depositEnergyIncome(99, 100 * USDC, EEA);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketZeroReference.selector));
        market.depositEnergyIncome(assetId, 100 * USDC, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketDustAmount.selector, 0, 10_000));
        market.depositEnergyIncome(assetId, 0, EEA);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketDustAmount.selector, 9_999, 10_000));
        market.depositEnergyIncome(assetId, 9_999, EEA);
        vm.stopPrank();
        // a grid event of another asset is not this asset's income
        uint256 other = _otherAsset();
        GridEvent memory theirs = gridEvent(EEA, GridEventSource.OpenAdr, block.timestamp, block.timestamp + 60);
        theirs.assetId = other;
        bytes32 theirId = _declare(theirs, STRANGER_KEY);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketEventOfOtherAsset.selector, theirId, other, assetId));
        market.depositEnergyIncome(assetId, 100 * USDC, theirId);
        (uint256 total,) = market.energyIncomeOf(assetId);
        assertEq(total, 0, "nothing deposited");
    }
}
