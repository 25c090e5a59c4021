// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ProtocolParams} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {
    IMetricsOracle, Report, ReportStatus, StoredReport
} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Fixture} from "../utils/Fixture.sol";

contract MetricsOracleTest is Fixture {
    function _submit(Report[] memory rs, bytes[] memory sigs) internal {
        oracle.submitReport(rs, sigs);
    }

    function test_submitReport_AcceptsThresholdAndEmits() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 9_990);
        (Report[] memory rs, bytes[] memory sigs) = signed(r, 2);
        address[] memory signers = new address[](2);
        signers[0] = attestorAddrs[0];
        signers[1] = attestorAddrs[1];
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IMetricsOracle.ReportAccepted(assetId, 0, r, signers);
        _submit(rs, sigs);
        StoredReport memory s = oracle.reportOf(assetId, 0);
        assertEq(s.uptimeBps, 9_990, "uptime stored");
        assertEq(s.signerCount, 2, "signers");
        assertTrue(s.status == ReportStatus.Pending, "pending");
        assertTrue(oracle.supportsInterface(type(IMetricsOracle).interfaceId), "ERC-165");
    }

    function test_submitReport_UsesMedianOfEachField() public {
        vm.warp(epochStart(1));
        Report[] memory rs = new Report[](3);
        bytes[] memory sigs = new bytes[](3);
        uint32[3] memory uptimes = [uint32(10_000), 5_000, 9_000];
        uint64[3] memory energy = [uint64(3_000), 4_000, 5_000];
        uint64[3] memory miningWh = [uint64(900), 700, 800];
        uint64[3] memory miningRevenue = [uint64(50e6), 70e6, 60e6];
        address[] memory signers = new address[](3);
        for (uint256 i; i < 3; ++i) {
            rs[i] = makeReport(0, uptimes[i]);
            rs[i].gpuEnergyWh = energy[i];
            rs[i].miningEnergyWh = miningWh[i];
            rs[i].miningRevenue = miningRevenue[i];
            sigs[i] = sign(attestorKeys[i], rs[i]);
            signers[i] = vm.addr(attestorKeys[i]);
        }
        Report memory median = copy(rs[0]);
        median.uptimeBps = 9_000;
        median.gpuEnergyWh = 4_000;
        median.miningEnergyWh = 800;
        median.miningRevenue = 60e6;
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IMetricsOracle.ReportAccepted(assetId, 0, median, signers);
        _submit(rs, sigs);
        assertEq(oracle.reportOf(assetId, 0).uptimeBps, 9_000, "median uptime, not the site's claim");
    }

    function test_submitReport_RevertWhen_BelowThreshold() public {
        vm.warp(epochStart(1));
        (Report[] memory rs, bytes[] memory sigs) = signed(makeReport(0, 10_000), 1);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleBelowThreshold.selector, 1, 2));
        _submit(rs, sigs);
    }

    function test_submitReport_RevertWhen_UnknownSigner() public {
        vm.warp(epochStart(1));
        (Report[] memory rs, bytes[] memory sigs) = signed(makeReport(0, 10_000), 2);
        sigs[1] = sign(0xBAD, rs[1]);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleUnknownSigner.selector, vm.addr(0xBAD)));
        _submit(rs, sigs);
    }

    function test_submitReport_RevertWhen_DuplicateSigner() public {
        vm.warp(epochStart(1));
        (Report[] memory rs, bytes[] memory sigs) = signed(makeReport(0, 10_000), 2);
        sigs[1] = sigs[0];
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleDuplicateSigner.selector, attestorAddrs[0]));
        _submit(rs, sigs);
    }

    function test_submitReport_RevertWhen_ReplayedOnAnotherEpoch() public {
        vm.warp(epochStart(2));
        (Report[] memory rs, bytes[] memory sigs) = signed(makeReport(0, 10_000), 2);
        _submit(rs, sigs);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleReportExists.selector, assetId, 0));
        _submit(rs, sigs);
        // the same signatures on epoch 1's values recover to other addresses
        rs[0].epoch = 1;
        rs[1].epoch = 1;
        vm.expectRevert();
        _submit(rs, sigs);
    }

    function test_submitReport_RevertWhen_Timing() public {
        (Report[] memory rs, bytes[] memory sigs) = signed(makeReport(0, 10_000), 2);
        uint64 end = uint64(epochStart(1));
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleEpochNotEnded.selector, 0, end));
        _submit(rs, sigs);
        vm.warp(end + DEADLINE + 1);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleReportTooLate.selector, 0, end + DEADLINE));
        _submit(rs, sigs);
    }

    function test_submitReport_RevertWhen_Implausible() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        r.gpuEnergyWh = 8 * 700 + 1; // 8 GPUs x 700 W x 1 h
        r.facilityEnergyWh = 10_000;
        (Report[] memory rs, bytes[] memory sigs) = signed(r, 2);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleEnergyAboveCapacity.selector, 5_601, 5_600));
        _submit(rs, sigs);

        r = makeReport(0, 10_000);
        r.facilityEnergyWh = r.gpuEnergyWh - 1;
        (rs, sigs) = signed(r, 2);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleFacilityBelowLoad.selector, 3_999, 4_000, 0)
        );
        _submit(rs, sigs);

        // a hybrid site: the facility feeds the GPUs and the Bitcoin miners
        r = makeReport(0, 10_000);
        r.miningEnergyWh = 1_001;
        (rs, sigs) = signed(r, 2);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleFacilityBelowLoad.selector, 5_000, 4_000, 1_001)
        );
        _submit(rs, sigs);

        r = makeReport(0, 10_001);
        (rs, sigs) = signed(r, 2);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleValueOutOfRange.selector, "uptimeBps", 10_001, 10_000)
        );
        _submit(rs, sigs);
    }

    function test_submitReport_RevertWhen_MismatchedReports() public {
        vm.warp(epochStart(1));
        (Report[] memory rs, bytes[] memory sigs) = signed(makeReport(0, 10_000), 2);
        bytes[] memory one = new bytes[](1);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleLengthMismatch.selector, 2, 1));
        _submit(rs, one);
        rs[1].epoch = 1;
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleReportMismatch.selector, 1, assetId, 1));
        _submit(rs, sigs);
        rs[1].epoch = 0;
        rs[1].gridEventId = bytes32("OTHER");
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleGridEventMismatch.selector, 1, bytes32("OTHER"), bytes32(0))
        );
        _submit(rs, sigs);
        rs[0].assetId = 42;
        rs[1].assetId = 42;
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleUnknownAsset.selector, 42));
        _submit(rs, sigs);
    }

    function test_challenge_FraudVoidsReportSlashesAndRewards() public {
        uint256 id = openLease(lessee, 4, 1, LeaseClass.Firm);
        skipAndFinalize(0);
        vm.warp(epochStart(2));
        (Report[] memory rs, bytes[] memory sigs) = signed(makeReport(1, 10_000), 2);
        _submit(rs, sigs);
        vm.expectEmit(true, true, true, true, address(oracle));
        emit IMetricsOracle.ReportChallenged(assetId, 1, challenger, 100 * USDC);
        vm.prank(challenger);
        oracle.challenge(assetId, 1);
        assertEq(oracle.challengerOf(assetId, 1), challenger, "challenger");
        vm.warp(block.timestamp + WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleNotArbiter.selector, address(this)));
        oracle.resolveChallenge(assetId, 1, true);

        uint256 bond = registry.bondOf(assetId);
        uint256 slash = bond / 2;
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IMetricsOracle.ChallengeResolved(assetId, 1, true, slash, 100 * USDC + slash / 2);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 1, true);
        assertTrue(oracle.reportOf(assetId, 1).status == ReportStatus.Voided, "voided");

        // no proof, no pay: the lessee gets everything back
        market.finalizeEpoch(assetId, 1);
        (uint256 refund,) = market.refundable(id);
        assertEq(refund, market.leaseOf(id).ratePerEpoch, "full refund after fraud");

        uint256 before = usdc.balanceOf(challenger);
        vm.prank(challenger);
        oracle.withdraw(challenger);
        assertEq(usdc.balanceOf(challenger) - before, 100 * USDC + slash / 2, "bond back plus reward");
        assertEq(oracle.creditOf(treasury), slash - slash / 2, "rest to the treasury");
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleNothingToWithdraw.selector, challenger));
        oracle.withdraw(challenger);
    }

    function test_challenge_RejectedPaysOperator() public {
        vm.warp(epochStart(1));
        (Report[] memory rs, bytes[] memory sigs) = signed(makeReport(0, 10_000), 2);
        _submit(rs, sigs);
        vm.prank(challenger);
        oracle.challenge(assetId, 0);
        (bool ready,,,) = oracle.outcome(assetId, 0);
        assertTrue(!ready, "challenged report is not final");
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 0, false);
        assertTrue(oracle.reportOf(assetId, 0).status == ReportStatus.Upheld, "upheld");
        assertEq(oracle.creditOf(operator), 100 * USDC, "forfeited bond to operator");
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleNotChallenged.selector, assetId, 0, ReportStatus.Upheld)
        );
        oracle.resolveChallenge(assetId, 0, false);
    }

    function test_challenge_RevertWhen_WindowClosed() public {
        vm.warp(epochStart(1));
        (Report[] memory rs, bytes[] memory sigs) = signed(makeReport(0, 10_000), 2);
        _submit(rs, sigs);
        uint64 windowEnd = uint64(block.timestamp + WINDOW);
        vm.warp(windowEnd);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMetricsOracle.OracleNotChallengeable.selector, assetId, 0, ReportStatus.Pending, windowEnd
            )
        );
        oracle.challenge(assetId, 0);
    }

    /// @dev A governor changing the challenge window moves neither a pending report's challenge deadline
    ///      nor its settlement: both keep the window the report was accepted under.
    function test_challengeWindow_FixedAtAcceptance() public {
        vm.warp(epochStart(1));
        (Report[] memory rs, bytes[] memory sigs) = signed(makeReport(0, 10_000), 2);
        _submit(rs, sigs);
        uint64 windowEnd = uint64(block.timestamp + WINDOW);
        assertEq(oracle.reportOf(assetId, 0).challengeEndsAt, windowEnd, "stored deadline");
        ProtocolParams memory p = registry.protocolParams();
        p.challengeWindow = uint32(WINDOW * 10);
        vm.prank(admin);
        registry.setProtocolParams(p);

        vm.warp(windowEnd);
        (bool ready,,,) = oracle.outcome(assetId, 0);
        assertTrue(ready, "settles when its own window ends");
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMetricsOracle.OracleNotChallengeable.selector, assetId, 0, ReportStatus.Pending, windowEnd
            )
        );
        oracle.challenge(assetId, 0);
    }
}
