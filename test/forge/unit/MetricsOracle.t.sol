// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {
    AssetParams,
    AssetStatus,
    ICapacityRegistry,
    ProtocolParams
} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {
    AttestationConfig,
    IMetricsOracle,
    Observation,
    Report,
    ReportStatus,
    SignedObservation,
    StoredReport,
    Verdict
} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice Submission: the quorum, the co-signers, the median the contract takes itself, and bad input.
contract MetricsOracleSubmitTest is Fixture {
    uint256 internal constant SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function test_submitReport_AcceptsQuorumAndEmits() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 9_990);
        bytes32 digest = oracle.hashReport(r);
        bytes memory cosigs = cosignFirst(r, 2);
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IMetricsOracle.ReportAccepted(assetId, 0, 9_990, 0, bytes32(0), 0x7, 0x3, digest);
        oracle.submitReport(r, cosigs);
        StoredReport memory s = oracle.reportOf(assetId, 0);
        assertEq(s.uptimeBps, 9_990, "uptime stored");
        assertEq(s.cosigners, 0x3, "co-signers 1 and 2");
        assertEq(uint256(uint144(s.digest)), uint256(uint144(bytes18(digest))), "digest prefix stored");
        assertEq(s.challengeEndsAt, block.timestamp + WINDOW, "window");
        assertTrue(s.status == ReportStatus.Pending, "pending");
        assertTrue(oracle.supportsInterface(type(IMetricsOracle).interfaceId), "ERC-165");
    }

    function test_submitReport_TakesTheMedianOfUptimeAndCurtailment() public {
        bytes32 id = declareEvent(bytes32("EEA"), epochStart(0), epochStart(1));
        vm.warp(epochStart(1));
        Observation[] memory obs = uniform(3, 0);
        uint32[3] memory uptimes = [uint32(10_000), 5_000, 9_000];
        uint32[3] memory curtailed = [uint32(500), 2_000, 1_000];
        for (uint256 i; i < 3; ++i) {
            obs[i].uptimeBps = uptimes[i];
            obs[i].curtailedBps = curtailed[i];
        }
        Report memory r = buildReport(0, id, obs);
        bytes32 digest = oracle.hashReport(r);
        bytes memory cosigs = cosignFirst(r, 2);
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IMetricsOracle.ReportAccepted(assetId, 0, 9_000, 1_000, id, 0x7, 0x3, digest);
        oracle.submitReport(r, cosigs);
        StoredReport memory s = oracle.reportOf(assetId, 0);
        assertEq(s.uptimeBps, 9_000, "median uptime, not the site's claim");
        assertEq(s.curtailedBps, 1_000, "median curtailment");
    }

    /// @notice Whatever the values and however many observations (3 to 4 of 4), the stored medians are element
    ///         (k-1)/2 of each field sorted: the three-value fast path and the sort agree.
    function testFuzz_submitReport_StoresTheLowerMedian(uint32[4] memory up, uint32[4] memory cut, bool four) public {
        bytes32 id = declareEvent(bytes32("EEA"), epochStart(0), epochStart(1));
        vm.warp(epochStart(1));
        uint256 k = four ? 4 : 3;
        Observation[] memory obs = uniform(k, 0);
        uint256[] memory us = new uint256[](k);
        uint256[] memory cs = new uint256[](k);
        for (uint256 i; i < k; ++i) {
            obs[i].uptimeBps = uint32(bound(up[i], 0, 10_000));
            obs[i].curtailedBps = uint32(bound(cut[i], 0, 10_000));
            us[i] = obs[i].uptimeBps;
            cs[i] = obs[i].curtailedBps;
        }
        Report memory r = buildReport(0, id, obs);
        oracle.submitReport(r, cosignFirst(r, 2));
        StoredReport memory s = oracle.reportOf(assetId, 0);
        assertEq(s.uptimeBps, _lowerMedian(us), "uptime");
        assertEq(s.curtailedBps, _lowerMedian(cs), "curtailment");
    }

    function _lowerMedian(uint256[] memory v) internal pure returns (uint256) {
        for (uint256 i; i < v.length; ++i) {
            for (uint256 j = i + 1; j < v.length; ++j) {
                if (v[j] < v[i]) (v[i], v[j]) = (v[j], v[i]);
            }
        }
        return v[(v.length - 1) / 2];
    }

    /// @notice The review's attack: one dishonest checker pairs the honest site report with its own 0 %.
    ///         With a quorum of three, its lie lands between honest values; the firm lessee is charged.
    function test_submitReport_OneLiarMovesNothing() public {
        openLease(lessee, 4, 1, LeaseClass.Firm);
        vm.warp(epochStart(2));
        Observation[] memory obs = uniform(3, 0);
        obs[0].uptimeBps = 9_950; // the site agent
        obs[1].uptimeBps = 0; // the liar
        obs[2].uptimeBps = 9_920; // an honest checker
        Report memory r = buildReport(1, bytes32(0), obs);
        // the liar co-signs with the site agent: two co-signers are enough, but they cannot move the median
        uint256[] memory keys = new uint256[](2);
        keys[0] = attestorKeys[0];
        keys[1] = attestorKeys[1];
        oracle.submitReport(r, _cosign(oracle, r, keys));
        assertEq(oracle.reportOf(assetId, 1).uptimeBps, 9_920, "within the honest range [9,920, 9,950]");
    }

    function test_submitReport_LowerMedianOfFourLiesInTheHonestRange() public {
        vm.warp(epochStart(1));
        Observation[] memory obs = uniform(4, 0);
        obs[0].uptimeBps = 9_900;
        obs[1].uptimeBps = 9_800;
        obs[2].uptimeBps = 9_700;
        obs[3].uptimeBps = 0; // one liar
        Report memory r = buildReport(0, bytes32(0), obs);
        oracle.submitReport(r, cosignFirst(r, 2));
        assertEq(oracle.reportOf(assetId, 0).uptimeBps, 9_700, "element (4-1)/2 of [0, 9700, 9800, 9900]");
    }

    /// @notice n = 32, f = 10: observer 32, co-signer 32 and verdict bit 31 all work (no off-by-one).
    function test_submitReport_ThirtyTwoAttestorsIndex32() public {
        uint256[] memory keys = new uint256[](32);
        address[] memory addrs = new address[](32);
        for (uint256 i; i < 32; ++i) {
            keys[i] = 0xB0000 + i;
            addrs[i] = vm.addr(keys[i]);
        }
        AssetParams memory p = defaultAsset();
        p.attestors = addrs;
        p.faultTolerance = 10;
        vm.prank(operator);
        uint256 id = registry.registerAsset(p);
        for (uint256 i; i < 32; ++i) {
            vm.prank(operator);
            oracle.depositStake(id, addrs[i], STAKE);
        }
        vm.warp(block.timestamp + 2 * uint256(EPOCH));
        uint64 epoch = registry.currentEpoch(id) - 1;
        // observers 12..32 (21 = 2f+1), the last one lying high
        Observation[] memory obs = new Observation[](21);
        uint256[] memory okeys = new uint256[](21);
        for (uint256 i; i < 21; ++i) {
            obs[i] = observation(uint8(12 + i), 9_000);
            okeys[i] = keys[11 + i];
        }
        obs[20].uptimeBps = 10_000;
        Report memory r = _buildReport(oracle, id, epoch, bytes32(0), obs, okeys);
        uint256[] memory ckeys = new uint256[](11);
        for (uint256 i; i < 11; ++i) {
            ckeys[i] = keys[21 + i]; // co-signers 22..32
        }
        oracle.submitReport(r, _cosign(oracle, r, ckeys));
        StoredReport memory s = oracle.reportOf(id, epoch);
        assertEq(s.cosigners, 0xFFE00000, "bits 21..31");
        assertEq(s.uptimeBps, 9_000, "median");
        vm.prank(challenger);
        oracle.challenge(id, epoch);
        vm.prank(admin);
        oracle.resolveChallenge(
            id, epoch, Verdict({voided: false, uptimeBps: 9_000, curtailedBps: 0, faultyAttestors: 1 << 31})
        );
        (, uint256 st) = oracle.attestorOf(id, addrs[31]);
        assertEq(st, STAKE / 2, "attestor 32 slashed");
    }

    function test_submitReport_RevertWhen_BelowQuorum() public {
        bytes memory cs;
        vm.warp(epochStart(1));
        Report memory r = buildReport(0, bytes32(0), uniform(2, 10_000));
        cs = cosignFirst(r, 2);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleObservationCount.selector, 2, 3, 4));
        oracle.submitReport(r, cs);
    }

    function test_submitReport_RevertWhen_MoreObservationsThanAttestors() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        bytes memory cs = cosignFirst(r, 2);
        r.observations = bytes.concat(r.observations, r.observations, r.observations); // nine records of four
        r.observationSignatures =
            bytes.concat(r.observationSignatures, r.observationSignatures, r.observationSignatures);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleObservationCount.selector, 9, 3, 4));
        oracle.submitReport(r, cs);
    }

    function test_submitReport_CurtailmentBoundRoundsUpToAWholeBps() public {
        // 901 s of a 3,600 s epoch is 2,502.7 bps: 2,503 is inside the event, 2,504 is not
        bytes32 id = declareEvent(bytes32("EEA"), epochStart(1) - 901, epochStart(1));
        vm.warp(epochStart(1));
        Report memory r = curtailedReport(0, 10_000, 2_504, id);
        bytes memory cs = cosignFirst(r, 2);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleCurtailmentOutsideEvent.selector, id, 2_504, 2_503));
        oracle.submitReport(r, cs);
        r = curtailedReport(0, 10_000, 2_503, id);
        oracle.submitReport(r, cosignFirst(r, 2));
        assertEq(oracle.reportOf(assetId, 0).curtailedBps, 2_503, "the rounded-up bound is accepted");
    }

    function test_submitReport_RevertWhen_ObserversNotAscendingAttestors() public {
        bytes memory cs;
        vm.warp(epochStart(1));
        Observation[] memory obs = uniform(3, 10_000);
        obs[2].observer = 2; // twice
        Report memory r = buildReport(0, bytes32(0), obs);
        cs = cosignFirst(r, 2);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleObserverOutOfOrder.selector, 2, 2, 2, 4));
        oracle.submitReport(r, cs);

        obs = uniform(3, 10_000);
        obs[0].observer = 2;
        obs[1].observer = 1; // descending
        r = buildReport(0, bytes32(0), obs);
        cs = cosignFirst(r, 2);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleObserverOutOfOrder.selector, 1, 1, 2, 4));
        oracle.submitReport(r, cs);

        obs = uniform(3, 10_000);
        obs[2].observer = 5; // not an attestor index
        obs[2].evidenceHash = bytes32(0);
        uint256[] memory keys = new uint256[](3);
        keys[0] = attestorKeys[0];
        keys[1] = attestorKeys[1];
        keys[2] = 0xBAD;
        r = _buildReport(oracle, assetId, 0, bytes32(0), obs, keys);
        cs = cosignFirst(r, 2);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleObserverOutOfOrder.selector, 2, 5, 2, 4));
        oracle.submitReport(r, cs);
    }

    function test_submitReport_RevertWhen_TooFewCosigners() public {
        bytes memory cs;
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        cs = cosignFirst(r, 1);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleTooFewCosigners.selector, 1, 2));
        oracle.submitReport(r, cs);
    }

    function test_submitReport_RevertWhen_UnknownSigner() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        bytes memory sigs = bytes.concat(cosignFirst(r, 1), _sig(0xBAD, oracle.hashReport(r)));
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleUnknownSigner.selector, vm.addr(0xBAD)));
        oracle.submitReport(r, sigs);
    }

    function test_submitReport_RevertWhen_DuplicateSigner() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        bytes memory one = cosignFirst(r, 1);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleDuplicateSigner.selector, attestorAddrs[0]));
        oracle.submitReport(r, bytes.concat(one, one));
    }

    function test_submitReport_RevertWhen_TheHighSTwinOfACosignatureIsAddedAsAnother() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        bytes memory one = cosignFirst(r, 1);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleDuplicateSigner.selector, attestorAddrs[0]));
        oracle.submitReport(r, bytes.concat(one, highSTwin(one)));
    }

    /// @dev (r, n - s, the other v): the same signer's signature, encoded otherwise
    function highSTwin(bytes memory sig) internal pure returns (bytes memory twin) {
        twin = bytes.concat(sig);
        bytes32 s;
        assembly {
            s := mload(add(twin, 0x40))
        }
        bytes32 flipped = bytes32(SECP256K1_ORDER - uint256(s));
        assembly {
            mstore(add(twin, 0x40), flipped)
        }
        twin[64] = bytes1(uint8(twin[64]) == 27 ? 28 : 27);
    }

    function test_submitReport_RevertWhen_CosignerUnderstaked() public {
        bytes memory cs;
        vm.prank(operator);
        uint256 second = registry.registerAsset(defaultAsset());
        vm.prank(operator);
        oracle.depositStake(second, attestorAddrs[0], MIN_STAKE); // exactly the minimum counts
        vm.prank(operator);
        oracle.depositStake(second, attestorAddrs[1], MIN_STAKE - 1);
        vm.warp(epochStart(1) + 3600);
        Observation[] memory obs = uniform(3, 10_000);
        uint256[] memory keys = new uint256[](3);
        for (uint256 i; i < 3; ++i) {
            keys[i] = attestorKeys[i];
        }
        uint64 epoch = registry.currentEpoch(second) - 1;
        Report memory r = _buildReport(oracle, second, epoch, bytes32(0), obs, keys);
        cs = cosignFirst(r, 2);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMetricsOracle.OracleCosignerUnderstaked.selector, attestorAddrs[1], MIN_STAKE - 1, MIN_STAKE
            )
        );
        oracle.submitReport(r, cs);
    }

    function test_submitReport_RevertWhen_ObservationsNotWholeRecords() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        bytes memory cs = cosignFirst(r, 2);
        bytes memory cut = new bytes(73 * 3 - 1);
        for (uint256 i; i < cut.length; ++i) {
            cut[i] = r.observations[i];
        }
        r.observations = cut;
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleObservationsLength.selector, 218, 73));
        oracle.submitReport(r, cs);
    }

    function test_submitReport_RevertWhen_SignatureBlobsMalformed() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        bytes memory cosigs = cosignFirst(r, 2);
        bytes memory full = r.observationSignatures;
        r.observationSignatures = new bytes(64 * 3);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleSignatureLength.selector, 192, 195));
        oracle.submitReport(r, cosigs);
        r.observationSignatures = full;
        bytes memory cut = new bytes(129);
        for (uint256 i; i < 129; ++i) {
            cut[i] = cosigs[i];
        }
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleSignatureLength.selector, 129, 130));
        oracle.submitReport(r, cut);
        // a co-signature with an invalid v is not a signature at all
        cosigs[64] = bytes1(uint8(29));
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleInvalidSignature.selector, 0));
        oracle.submitReport(r, cosigs);
    }

    /// @notice Co-signatures cover the observations and their signatures exactly: a submitter that swaps an
    ///         observation (or its signature, to frame the co-signers) has signatures by nobody.
    function test_submitReport_RevertWhen_ChangedAfterCosigning() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        bytes memory cosigs = cosignFirst(r, 2);
        r.observations[73 + 20] = bytes1(uint8(r.observations[73 + 20]) ^ 1); // observation 2: facility energy
        vm.expectPartialRevert(IMetricsOracle.OracleUnknownSigner.selector);
        oracle.submitReport(r, cosigs);
        r = makeReport(0, 10_000);
        r.observationSignatures[5] = bytes1(uint8(r.observationSignatures[5]) ^ 1);
        vm.expectPartialRevert(IMetricsOracle.OracleUnknownSigner.selector);
        oracle.submitReport(r, cosigs);
    }

    function test_submitReport_RevertWhen_ReplayedOrMovedToAnotherEpochOrAsset() public {
        vm.warp(epochStart(2));
        Report memory r = makeReport(0, 10_000);
        bytes memory cosigs = cosignFirst(r, 2);
        oracle.submitReport(r, cosigs);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleReportExists.selector, assetId, 0));
        oracle.submitReport(r, cosigs);
        r.epoch = 1; // the same signatures for another epoch recover to nobody
        vm.expectPartialRevert(IMetricsOracle.OracleUnknownSigner.selector);
        oracle.submitReport(r, cosigs);
        r.epoch = 0;
        r.assetId = 99;
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleUnknownAsset.selector, 99));
        oracle.submitReport(r, cosigs);
    }

    function test_submitReport_RevertWhen_SignedForAnotherChain() public {
        vm.warp(epochStart(1));
        vm.chainId(1);
        Report memory r = makeReport(0, 10_000);
        bytes memory cosigs = cosignFirst(r, 2);
        vm.chainId(31337);
        vm.expectPartialRevert(IMetricsOracle.OracleUnknownSigner.selector);
        oracle.submitReport(r, cosigs);
    }

    function test_submitReport_RevertWhen_Timing() public {
        vm.warp(epochStart(1) - 1);
        Report memory r = makeReport(0, 10_000);
        bytes memory cosigs = cosignFirst(r, 2);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleEpochNotEnded.selector, 0, epochStart(1)));
        oracle.submitReport(r, cosigs);
        vm.warp(epochStart(1) + DEADLINE); // the deadline itself still counts
        vm.revertToState(_snapshotAndSubmit(r, cosigs));
        vm.warp(epochStart(1) + DEADLINE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleReportTooLate.selector, 0, epochStart(1) + DEADLINE)
        );
        oracle.submitReport(r, cosigs);
    }

    function _snapshotAndSubmit(Report memory r, bytes memory cosigs) internal returns (uint256 snap) {
        snap = vm.snapshotState();
        oracle.submitReport(r, cosigs);
    }

    function _revertsImplausible(Observation memory o, bytes memory expected) internal {
        Observation[] memory obs = uniform(3, 10_000);
        obs[1] = o;
        Report memory r = buildReport(0, bytes32(0), obs);
        bytes memory cosigs = cosignFirst(r, 2);
        vm.expectRevert(expected);
        oracle.submitReport(r, cosigs);
    }

    function test_submitReport_RevertWhen_AnObservationIsImplausible() public {
        vm.warp(epochStart(1));
        Observation memory o = observation(2, 10_001);
        _revertsImplausible(
            o, abi.encodeWithSelector(IMetricsOracle.OracleValueOutOfRange.selector, 2, "uptimeBps", 10_001, 10_000)
        );
        o = observation(2, 10_000);
        o.curtailedBps = 10_001;
        _revertsImplausible(
            o, abi.encodeWithSelector(IMetricsOracle.OracleValueOutOfRange.selector, 2, "curtailedBps", 10_001, 10_000)
        );
        o = observation(2, 10_000);
        o.renewableBps = 10_001;
        _revertsImplausible(
            o, abi.encodeWithSelector(IMetricsOracle.OracleValueOutOfRange.selector, 2, "renewableBps", 10_001, 10_000)
        );
        o = observation(2, 10_000);
        o.carbonGramsPerKwh = 2_001;
        _revertsImplausible(
            o,
            abi.encodeWithSelector(IMetricsOracle.OracleValueOutOfRange.selector, 2, "carbonGramsPerKwh", 2_001, 2_000)
        );
        uint256 maxWh = uint256(GPUS) * 700 * EPOCH / 3600;
        o = observation(2, 10_000);
        o.gpuEnergyWh = uint64(maxWh + 1);
        o.facilityEnergyWh = uint64(maxWh + 1);
        _revertsImplausible(
            o, abi.encodeWithSelector(IMetricsOracle.OracleEnergyAboveCapacity.selector, 2, maxWh + 1, maxWh)
        );
        o = observation(2, 10_000);
        o.miningEnergyWh = 1_001; // 4,000 GPU + 1,001 mining > 5,000 facility
        _revertsImplausible(
            o, abi.encodeWithSelector(IMetricsOracle.OracleFacilityBelowLoad.selector, 2, 5_000, 4_000, 1_001)
        );
        // the bounds themselves are accepted: 10,000 bps, all GPUs at full power, facility == GPU + mining
        o = observation(2, 10_000);
        o.curtailedBps = 0;
        o.renewableBps = 10_000;
        o.carbonGramsPerKwh = 2_000;
        o.gpuEnergyWh = uint64(maxWh);
        o.facilityEnergyWh = uint64(maxWh + 1_000);
        o.miningEnergyWh = 1_000;
        Observation[] memory obs = uniform(3, 10_000);
        obs[1] = o;
        Report memory r = buildReport(0, bytes32(0), obs);
        oracle.submitReport(r, cosignFirst(r, 2));
    }
}

/// @notice What anyone proves on chain, without the arbiter: forged observations and equivocation.
contract MetricsOracleFaultProofTest is Fixture {
    /// @dev Attestors 1 and 2 collude (beyond f = 1): they put observer `forged` in their report with a
    ///      signature of their own, and co-sign it.
    function _forgedReport(uint256 count, uint8 forged, uint32 forgedUptime) internal view returns (Report memory r) {
        Observation[] memory obs = uniform(count, 0);
        uint32[4] memory honest = [uint32(9_900), 9_800, 9_700, 9_600];
        uint256[] memory keys = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            obs[i].uptimeBps = honest[i];
            keys[i] = attestorKeys[i];
        }
        obs[forged - 1].uptimeBps = forgedUptime;
        keys[forged - 1] = attestorKeys[0]; // not the observer's key
        r = _buildReport(oracle, assetId, 0, bytes32(0), obs, keys);
    }

    function test_proveObservationFault_ForgedObservationVoidsBelowQuorum() public {
        openLease(lessee, 4, 1, LeaseClass.Firm); // leases epoch 1
        vm.warp(epochStart(1));
        Report memory r = _forgedReport(3, 3, 0);
        oracle.submitReport(r, cosignFirst(r, 2));
        assertEq(oracle.reportOf(assetId, 0).uptimeBps, 9_800, "accepted: median of 9,900, 9,800 and the forgery");
        address prover = address(0xF00D);
        vm.expectEmit(true, true, true, true, address(oracle));
        emit IMetricsOracle.ObservationFaultProven(assetId, 0, prover, 0x4, 1_000e6, 200e6);
        vm.prank(prover);
        oracle.proveObservationFault(r);
        StoredReport memory s = oracle.reportOf(assetId, 0);
        assertTrue(s.status == ReportStatus.Voided, "a forged observation voids the report");
        (bool ready, bool proven,,) = oracle.outcome(assetId, 0);
        assertTrue(ready && !proven, "no proof, no pay");
        (, uint256 stake1) = oracle.attestorOf(assetId, attestorAddrs[0]);
        (, uint256 stake3) = oracle.attestorOf(assetId, attestorAddrs[2]);
        assertEq(stake1, STAKE / 2, "co-signer slashed half");
        assertEq(stake3, STAKE, "the impersonated attestor keeps its stake");
        assertEq(oracle.creditOf(prover), 200e6, "prover: 20 % of 1,000 slashed");
        assertEq(oracle.creditOf(treasury), 800e6, "treasury: the rest");
    }

    /// @notice The auditor's attack: colluders put two honest observations beside their two lies, forge one of
    ///         the honest ones, and prove their own "fault" so that the median over the rest is theirs. A
    ///         forged report is voided instead: the median is never taken again over what they chose to keep.
    function test_proveObservationFault_NeverLetsTheForgersChooseTheMedian() public {
        vm.warp(epochStart(1));
        Report memory r = _forgedReport(4, 4, 9_000);
        // 9,900 and 9,800 are the colluders' (attestors 1 and 2), 9,700 honest, 9,000 "attestor 4" forged
        oracle.submitReport(r, cosignFirst(r, 2));
        assertEq(oracle.reportOf(assetId, 0).uptimeBps, 9_700, "lower median of four");
        vm.prank(address(0x5B1)); // a sybil of theirs
        oracle.proveObservationFault(r);
        StoredReport memory s = oracle.reportOf(assetId, 0);
        assertTrue(s.status == ReportStatus.Voided && s.uptimeBps == 0, "voided, not re-valued to 9,800");
        (bool ready, bool proven,,) = oracle.outcome(assetId, 0);
        assertTrue(ready && !proven, "settles at once: nothing delivered");
    }

    /// @notice The auditor's framing attack: a faulty attestor (within f) serves its own genuine signature in
    ///         another encoding (s in the upper half, or v as 0/1), which agents accept; the contract accepts
    ///         every encoding of a genuine signature, so there is no "fault" to prove and no one to slash.
    function test_proveObservationFault_RevertWhen_OnlyTheEncodingDiffers() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 9_950);
        bytes memory sigs = r.observationSignatures;
        // observation 2: the high-s twin (r, n - s, v ^ 1); observation 3: v as 0/1
        bytes32 s2;
        assembly {
            s2 := mload(add(sigs, add(0x20, 97)))
        }
        bytes32 twin = bytes32(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 - uint256(s2));
        for (uint256 j; j < 32; ++j) {
            sigs[97 + j] = twin[j];
        }
        sigs[129] = bytes1(uint8(sigs[129]) == 27 ? 28 : 27);
        sigs[194] = bytes1(uint8(sigs[194]) - 27);
        r.observationSignatures = sigs;
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleNoFault.selector, assetId, 0));
        oracle.proveObservationFault(r);
        (, uint256 stake) = oracle.attestorOf(assetId, attestorAddrs[0]);
        assertEq(stake, STAKE, "no honest co-signer slashed");
    }

    function test_proveObservationFault_CosignerProverGetsNoReward() public {
        vm.warp(epochStart(1));
        Report memory r = _forgedReport(3, 3, 0);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.prank(attestorAddrs[1]);
        oracle.proveObservationFault(r);
        assertEq(oracle.creditOf(attestorAddrs[1]), 0, "a co-signer at fault collects nothing");
        assertEq(oracle.creditOf(treasury), 1_000e6, "all of the slash to the treasury");
    }

    function test_proveObservationFault_RevertWhen_NoFault() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleNoFault.selector, assetId, 0));
        oracle.proveObservationFault(r);
    }

    function test_proveObservationFault_RevertWhen_NotTheAcceptedReport() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        oracle.submitReport(r, cosignFirst(r, 2));
        bytes18 accepted = oracle.reportOf(assetId, 0).digest;
        Report memory other = _forgedReport(3, 3, 0);
        bytes18 presented = bytes18(oracle.hashReport(other));
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleReportNotAccepted.selector, assetId, 0, presented, accepted)
        );
        oracle.proveObservationFault(other);
    }

    function test_proveObservationFault_RevertWhen_WindowClosed() public {
        vm.warp(epochStart(1));
        Report memory r = _forgedReport(3, 3, 0);
        oracle.submitReport(r, cosignFirst(r, 2));
        uint64 end = uint64(block.timestamp + WINDOW);
        vm.warp(end - 1);
        uint256 snap = vm.snapshotState();
        oracle.proveObservationFault(r); // the last second of the window still counts
        vm.revertToState(snap);
        vm.warp(end);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleNotProvable.selector, assetId, 0, ReportStatus.Pending, end)
        );
        oracle.proveObservationFault(r);
    }

    function test_proveObservationFault_OnAChallengedReportReturnsTheBond() public {
        vm.warp(epochStart(1));
        Report memory r = _forgedReport(3, 3, 0);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.prank(challenger);
        oracle.challenge(assetId, 0);
        assertEq(oracle.openDisputes(assetId), 1, "dispute open");
        oracle.proveObservationFault(r);
        assertEq(oracle.creditOf(challenger), 100 * USDC, "challenger's bond back");
        assertEq(oracle.openDisputes(assetId), 0, "dispute closed");
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleNotChallenged.selector, assetId, 0, ReportStatus.Voided)
        );
        oracle.resolveChallenge(assetId, 0, Verdict({voided: false, uptimeBps: 0, curtailedBps: 0, faultyAttestors: 0}));
    }

    function _signed(uint256 key, bytes32 gridEventId, Observation memory o)
        internal
        view
        returns (SignedObservation memory)
    {
        return SignedObservation({
            gridEventId: gridEventId,
            observation: o,
            signature: _sig(key, oracle.hashObservation(assetId, 0, gridEventId, o))
        });
    }

    function test_proveEquivocation_SlashesOnceAndRewards() public {
        SignedObservation memory a = _signed(attestorKeys[2], bytes32(0), observation(3, 9_900));
        SignedObservation memory b = _signed(attestorKeys[2], bytes32(0), observation(3, 0));
        address prover = address(0xF00D);
        vm.expectEmit(true, true, true, true, address(oracle));
        emit IMetricsOracle.EquivocationProven(assetId, 0, attestorAddrs[2], prover, STAKE / 2, STAKE / 10);
        vm.prank(prover);
        oracle.proveEquivocation(assetId, 0, a, b);
        (, uint256 stake) = oracle.attestorOf(assetId, attestorAddrs[2]);
        assertEq(stake, STAKE / 2, "slashed half");
        assertEq(oracle.creditOf(prover), STAKE / 10, "20 % of the slash");
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleEquivocationProven.selector, assetId, 0, attestorAddrs[2])
        );
        oracle.proveEquivocation(assetId, 0, a, b);
        // another grid event with the same values is a conflicting observation too (a later epoch)
        SignedObservation memory c = _signed(attestorKeys[2], keccak256("event"), observation(3, 9_900));
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleEquivocationProven.selector, assetId, 0, attestorAddrs[2])
        );
        oracle.proveEquivocation(assetId, 0, a, c);
    }

    function test_proveEquivocation_RevertWhen_NotAConflict() public {
        SignedObservation memory a = _signed(attestorKeys[2], bytes32(0), observation(3, 9_900));
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleNotEquivocation.selector, attestorAddrs[2], attestorAddrs[2])
        );
        oracle.proveEquivocation(assetId, 0, a, a);
        SignedObservation memory b = _signed(attestorKeys[1], bytes32(0), observation(3, 0));
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleNotEquivocation.selector, attestorAddrs[2], attestorAddrs[1])
        );
        oracle.proveEquivocation(assetId, 0, a, b);
        SignedObservation memory x = _signed(0xBAD, bytes32(0), observation(3, 1));
        SignedObservation memory y = _signed(0xBAD, bytes32(0), observation(3, 2));
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleNotEquivocation.selector, vm.addr(0xBAD), vm.addr(0xBAD))
        );
        oracle.proveEquivocation(assetId, 0, x, y);
        b.signature = new bytes(64);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleSignatureLength.selector, 64, 65));
        oracle.proveEquivocation(assetId, 0, a, b);
    }

    function test_proveEquivocation_SelfProofCollectsNothing() public {
        SignedObservation memory a = _signed(attestorKeys[2], bytes32(0), observation(3, 9_900));
        SignedObservation memory b = _signed(attestorKeys[2], bytes32(0), observation(3, 0));
        vm.prank(attestorAddrs[2]);
        oracle.proveEquivocation(assetId, 0, a, b);
        assertEq(oracle.creditOf(attestorAddrs[2]), 0, "no reward to the equivocator");
        assertEq(oracle.creditOf(treasury), STAKE / 2, "the slash to the treasury");
    }
}

/// @notice Measurement disputes: the arbiter's verdict corrects, and the party at fault pays.
contract MetricsOracleDisputeTest is Fixture {
    uint256 internal constant BOND = 100 * USDC;

    /// @dev Beyond the fault bound: attestors 2 and 3 both lie at `lie` and co-sign; the site saw 9,950.
    function _colludedReport(uint64 epoch, uint32 lie) internal {
        Observation[] memory obs = uniform(3, lie);
        obs[0].uptimeBps = 9_950;
        Report memory r = buildReport(epoch, bytes32(0), obs);
        uint256[] memory keys = new uint256[](2);
        keys[0] = attestorKeys[1];
        keys[1] = attestorKeys[2];
        oracle.submitReport(r, _cosign(oracle, r, keys));
    }

    function _verdict(uint16 uptime, uint32 faulty) internal pure returns (Verdict memory) {
        return Verdict({voided: false, uptimeBps: uptime, curtailedBps: 0, faultyAttestors: faulty});
    }

    function _challengeBy(address who, uint64 epoch) internal {
        vm.startPrank(who);
        usdc.approve(address(oracle), BOND);
        oracle.challenge(assetId, epoch);
        vm.stopPrank();
    }

    /// @notice The review's finding: a won challenge against an understated report used to void it (uptime 0)
    ///         and slash the operator. Now the verdict corrects it, slashes the liars and spares the operator.
    function test_resolveChallenge_CorrectsAnUnderstatedReportAndSettlementFollows() public {
        uint256 id = openLease(lessee, 8, 1, LeaseClass.Firm); // epoch 1, 8 GPUs
        uint256 rate = market.leaseOf(id).ratePerEpoch;
        vm.warp(epochStart(2));
        _colludedReport(1, 0);
        assertEq(oracle.reportOf(assetId, 1).uptimeBps, 0, "two colluders beyond f = 1 pass 0 %");
        _challengeBy(challenger, 1);
        uint256 bondBefore = registry.bondOf(assetId);
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IMetricsOracle.ChallengeResolved(
            assetId, 1, ReportStatus.Corrected, 9_950, 0, 0x6, 0, STAKE, BOND + STAKE / 5
        );
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 1, _verdict(9_950, 0x6));
        assertEq(registry.bondOf(assetId), bondBefore, "the operator was the victim: its bond is untouched");
        (, uint256 liarStake) = oracle.attestorOf(assetId, attestorAddrs[1]);
        assertEq(liarStake, STAKE / 2, "liar slashed");
        assertEq(oracle.creditOf(challenger), BOND + STAKE / 5, "bond back and 20 % of the slashes");
        assertEq(oracle.creditOf(treasury), STAKE * 4 / 5, "the rest");

        vm.warp(epochStart(2) + 1); // epoch 0, unreported, is past its deadline
        market.finalizeEpoch(assetId, 0);
        market.finalizeEpoch(assetId, 1);
        (uint256 refund, uint256 credit) = market.refundable(id);
        assertEq(refund, rate - rate * 9_950 / 10_000, "charged for the 99.5 % delivered");
        assertEq(credit, 0, "above the 99 % SLA: no credit from the bond");
    }

    function test_resolveChallenge_OverstatedReportSlashesTheOperatorBond() public {
        vm.warp(epochStart(1));
        _colludedReport(0, 10_000); // the truth is 9,950: two attestors overstate
        _challengeBy(challenger, 0);
        uint256 bond = registry.bondOf(assetId);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 0, _verdict(9_000, 0x6));
        uint256 operatorSlash = bond / 2; // fraudSlashBps 50 %
        assertEq(registry.bondOf(assetId), bond - operatorSlash, "operator slashed");
        uint256 slashed = operatorSlash + STAKE;
        assertEq(oracle.creditOf(challenger), BOND + slashed / 5, "challenger rewarded");
        assertEq(oracle.reportOf(assetId, 0).uptimeBps, 9_000, "corrected down");
    }

    /// @notice A registry that moved less than the slash it was asked for (this one cannot) fails the whole
    ///         verdict: nothing is paid out of a slash that did not happen.
    function test_resolveChallenge_RevertWhen_TheRegistrySlashesLessThanAsked() public {
        vm.warp(epochStart(1));
        _colludedReport(0, 10_000);
        _challengeBy(challenger, 0);
        uint256 operatorSlash = registry.bondOf(assetId) / 2;
        vm.mockCall(
            address(registry),
            abi.encodeCall(ICapacityRegistry.slashBond, (assetId, operatorSlash, address(oracle))),
            abi.encode(operatorSlash - 1)
        );
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleBondShort.selector, assetId, operatorSlash, operatorSlash - 1)
        );
        oracle.resolveChallenge(assetId, 0, _verdict(9_000, 0x6));
    }

    /// @notice The review's finding: the operator front-ran an honest challenger against its own overstated
    ///         report and collected the reward out of its own slash. Now it collects nothing and loses its bond.
    function test_resolveChallenge_OperatorChallengingItsOwnOverstatementCollectsNothing() public {
        vm.warp(epochStart(1));
        _colludedReport(0, 10_000);
        uint256 before = usdc.balanceOf(operator) + registry.bondOf(assetId);
        _challengeBy(operator, 0);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 0, _verdict(9_000, 0x6));
        assertEq(oracle.creditOf(operator), 0, "no reward, no bond back");
        uint256 after_ = usdc.balanceOf(operator) + registry.bondOf(assetId);
        assertEq(before - after_, BOND + 5_000 * USDC, "it lost its bond and half its asset bond");
    }

    /// @notice Through another address the operator gets the reward share, which is below what it loses.
    function test_resolveChallenge_FrontRunThroughAnotherAddressStillLoses() public {
        vm.warp(epochStart(1));
        _colludedReport(0, 10_000);
        address sybil = address(0x5B1);
        vm.prank(operator);
        usdc.transfer(sybil, BOND);
        uint256 before = usdc.balanceOf(operator) + usdc.balanceOf(sybil) + registry.bondOf(assetId);
        _challengeBy(sybil, 0);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 0, _verdict(9_000, 0));
        uint256 after_ =
            usdc.balanceOf(operator) + usdc.balanceOf(sybil) + oracle.creditOf(sybil) + registry.bondOf(assetId);
        assertLt(after_, before, "front-running its own fault costs the operator");
        assertEq(before - after_, 5_000 * USDC * 8 / 10, "it keeps only the reward share of its slash");
    }

    function test_resolveChallenge_LiarNamedWhileTheMedianStands() public {
        vm.warp(epochStart(1));
        Observation[] memory obs = uniform(3, 9_950);
        obs[2].uptimeBps = 0; // one liar within the bound: the median is honest
        Report memory r = buildReport(0, bytes32(0), obs);
        oracle.submitReport(r, cosignFirst(r, 2));
        _challengeBy(challenger, 0);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 0, _verdict(9_950, 0x4));
        StoredReport memory s = oracle.reportOf(assetId, 0);
        assertTrue(s.status == ReportStatus.Upheld, "values stand");
        (, uint256 liarStake) = oracle.attestorOf(assetId, attestorAddrs[2]);
        assertEq(liarStake, STAKE / 2, "liar slashed");
        assertEq(oracle.creditOf(challenger), BOND + STAKE / 10, "challenger rewarded for finding the liar");
    }

    function test_resolveChallenge_LiarChallengingCollectsNothing() public {
        vm.warp(epochStart(1));
        Observation[] memory obs = uniform(3, 9_950);
        obs[2].uptimeBps = 0;
        Report memory r = buildReport(0, bytes32(0), obs);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.prank(operator);
        usdc.transfer(attestorAddrs[2], BOND);
        _challengeBy(attestorAddrs[2], 0);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 0, _verdict(9_950, 0x4));
        assertEq(oracle.creditOf(attestorAddrs[2]), 0, "the liar gets no reward and loses its bond");
        assertEq(oracle.creditOf(treasury), BOND + STAKE / 2, "bond and slash to the treasury");
    }

    /// @notice Slashes round up (against the party at fault), rewards round down (in the protocol's favour).
    function test_resolveChallenge_SlashesRoundUpRewardsRoundDown() public {
        vm.prank(operator);
        oracle.depositStake(assetId, attestorAddrs[2], 1); // stake 1,000,000,001: half is 500,000,000.5
        vm.prank(operator);
        registry.depositBond(assetId, 1); // bond 10,000,000,001
        vm.warp(epochStart(1));
        _colludedReport(0, 10_000);
        _challengeBy(challenger, 0);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 0, _verdict(9_000, 0x4));
        (, uint256 stake) = oracle.attestorOf(assetId, attestorAddrs[2]);
        assertEq(stake, 500_000_000, "slashed 500,000,001: half of 1,000,000,001 rounded up");
        uint256 operatorSlash = 5_000_000_001; // half of the bond rounded up
        assertEq(registry.bondOf(assetId), 10_000_000_001 - operatorSlash, "the operator's slash rounds up");
        uint256 slashed = operatorSlash + 500_000_001;
        assertEq(oracle.creditOf(challenger), BOND + slashed * 2_000 / 10_000, "the reward rounds down");
        assertEq(oracle.creditOf(treasury), slashed - slashed * 2_000 / 10_000, "the remainder to the treasury");
    }

    /// @notice A report that understated curtailment charged interruptible lessees for curtailed time: it
    ///         overstated delivery, and the operator's bond pays.
    function test_resolveChallenge_UnderstatedCurtailmentSlashesTheOperator() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        oracle.submitReport(r, cosignFirst(r, 2));
        _challengeBy(challenger, 0);
        uint256 bond = registry.bondOf(assetId);
        vm.prank(admin);
        oracle.resolveChallenge(
            assetId, 0, Verdict({voided: false, uptimeBps: 10_000, curtailedBps: 1, faultyAttestors: 0})
        );
        assertEq(registry.bondOf(assetId), bond / 2, "slashed");
        StoredReport memory s = oracle.reportOf(assetId, 0);
        assertTrue(s.status == ReportStatus.Corrected && s.curtailedBps == 1, "corrected");
    }

    /// @notice More curtailment or less uptime than the report's is not an overstatement: the operator's bond is
    ///         untouched, whoever lied is named.
    function test_resolveChallenge_UnderstatedDeliverySparesTheOperator() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 9_000);
        oracle.submitReport(r, cosignFirst(r, 2));
        _challengeBy(challenger, 0);
        uint256 bond = registry.bondOf(assetId);
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IMetricsOracle.StakeSlashed(assetId, attestorAddrs[0], STAKE / 2, STAKE / 2);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 0, _verdict(9_001, 0x1));
        assertEq(registry.bondOf(assetId), bond, "an understatement is not the operator's gain");
    }

    function test_resolveChallenge_UpheldForfeitsTheBondToTheTreasury() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 9_950);
        oracle.submitReport(r, cosignFirst(r, 2));
        _challengeBy(challenger, 0);
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IMetricsOracle.ChallengeResolved(assetId, 0, ReportStatus.Upheld, 9_950, 0, 0, 0, 0, 0);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 0, _verdict(9_950, 0));
        assertEq(oracle.creditOf(treasury), BOND, "frivolous challenge: bond to the treasury, not the operator");
        assertEq(oracle.creditOf(operator), 0, "the operator cannot profit from challenging itself");
        (bool ready, bool proven, uint32 uptime,) = oracle.outcome(assetId, 0);
        assertTrue(ready && proven && uptime == 9_950, "final");
    }

    function test_resolveChallenge_VoidedMeansNothingDelivered() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 9_950);
        oracle.submitReport(r, cosignFirst(r, 2));
        _challengeBy(challenger, 0);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 0, Verdict({voided: true, uptimeBps: 0, curtailedBps: 0, faultyAttestors: 0}));
        (bool ready, bool proven,,) = oracle.outcome(assetId, 0);
        assertTrue(ready && !proven, "voided: no proof, no pay");
        assertEq(registry.bondOf(assetId), 5_000 * USDC, "a report claiming delivery that cannot be proven slashes");
    }

    function test_resolveChallenge_RevertWhen_BadVerdictOrCaller() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 9_950);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleNotChallenged.selector, assetId, 0, ReportStatus.Pending)
        );
        oracle.resolveChallenge(assetId, 0, _verdict(9_950, 0));
        _challengeBy(challenger, 0);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleNotArbiter.selector, challenger));
        vm.prank(challenger);
        oracle.resolveChallenge(assetId, 0, _verdict(9_950, 0));
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleInvalidVerdict.selector, 10_001, 0, 0));
        oracle.resolveChallenge(assetId, 0, _verdict(10_001, 0));
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleInvalidVerdict.selector, 9_950, 0, 0x10));
        oracle.resolveChallenge(assetId, 0, _verdict(9_950, 0x10)); // attestor 5 of 4
        oracle.resolveChallenge(assetId, 0, _verdict(10_000, 0x8)); // the bounds themselves are accepted
        vm.stopPrank();
    }

    function test_challenge_EmitsInsideTheWindowToItsLastSecond() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 9_950);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.warp(block.timestamp + WINDOW - 1);
        vm.expectEmit(true, true, true, true, address(oracle));
        emit IMetricsOracle.ReportChallenged(assetId, 0, challenger, BOND);
        vm.prank(challenger);
        oracle.challenge(assetId, 0);
        assertEq(oracle.openDisputes(assetId), 1, "open");
        assertEq(usdc.balanceOf(address(oracle)), 4 * STAKE + BOND, "bond pulled");
    }

    /// @notice A challenge delays settlement by at most the dispute deadline: past it anyone expires the
    ///         challenge, the report stands and the challenger's bond returns.
    function test_expireChallenge_AfterTheDeadlineTheReportStands() public {
        openLease(lessee, 2, 1, LeaseClass.Firm);
        vm.warp(epochStart(2));
        Report memory r = makeReport(1, 9_950);
        oracle.submitReport(r, cosignFirst(r, 2));
        _challengeBy(challenger, 1);
        uint64 resolveBy = uint64(block.timestamp + DISPUTE_DEADLINE);
        assertEq(oracle.reportOf(assetId, 1).challengeEndsAt, resolveBy, "the arbiter's time");
        vm.warp(resolveBy - 1);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleDisputeOpen.selector, assetId, 1, resolveBy));
        oracle.expireChallenge(assetId, 1);
        (bool ready,,,) = oracle.outcome(assetId, 1);
        assertFalse(ready, "settlement waits for the arbiter");
        vm.warp(resolveBy);
        vm.expectEmit(true, true, true, true, address(oracle));
        emit IMetricsOracle.ChallengeExpired(assetId, 1, challenger, BOND);
        oracle.expireChallenge(assetId, 1);
        assertTrue(oracle.reportOf(assetId, 1).status == ReportStatus.Upheld, "stands");
        assertEq(oracle.creditOf(challenger), BOND, "bond back");
        assertEq(oracle.openDisputes(assetId), 0, "closed");
        market.finalizeEpochs(assetId, 2);
        assertEq(market.ledgerOf(assetId).nextEpochToFinalize, 2, "settlement continued");
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleNotChallenged.selector, assetId, 1, ReportStatus.Upheld)
        );
        oracle.expireChallenge(assetId, 1);
    }

    function test_challenge_RevertWhen_WindowClosed() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 9_950);
        oracle.submitReport(r, cosignFirst(r, 2));
        uint64 end = uint64(block.timestamp + WINDOW);
        vm.warp(end);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMetricsOracle.OracleNotChallengeable.selector, assetId, 0, ReportStatus.Pending, end
            )
        );
        oracle.challenge(assetId, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleNotChallengeable.selector, assetId, 1, ReportStatus.None, 0)
        );
        oracle.challenge(assetId, 1);
    }

    function test_challengeWindow_FixedAtAcceptance() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 9_950);
        oracle.submitReport(r, cosignFirst(r, 2));
        uint256 accepted = block.timestamp;
        // governance shortens the window after acceptance: the report keeps its own
        ProtocolParams memory p = defaultParams();
        p.challengeWindow = 60;
        vm.prank(admin);
        registry.setProtocolParams(p);
        vm.warp(accepted + 60);
        (bool ready,,,) = oracle.outcome(assetId, 0);
        assertFalse(ready, "still inside the window it was accepted under");
        _challengeBy(challenger, 0);
        assertEq(oracle.challengerOf(assetId, 0), challenger, "challengeable");
    }

    function test_stake_DepositAndWithdrawOnlyWhenRetiredSettledAndUndisputed() public {
        vm.expectRevert(IMetricsOracle.OracleZeroAmount.selector);
        oracle.depositStake(assetId, attestorAddrs[0], 0);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleUnknownSigner.selector, challenger));
        oracle.depositStake(assetId, challenger, 1);
        vm.expectEmit(true, true, true, true, address(oracle));
        emit IMetricsOracle.StakeDeposited(assetId, attestorAddrs[0], challenger, 5, STAKE + 5);
        vm.prank(challenger);
        oracle.depositStake(assetId, attestorAddrs[0], 5);

        vm.prank(attestorAddrs[0]);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleStakeLocked.selector, assetId, attestorAddrs[0], 0, 0)
        );
        oracle.withdrawStake(assetId, attestorAddrs[0]);
        vm.prank(operator);
        registry.setStatus(assetId, AssetStatus.Retired);
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IMetricsOracle.StakeWithdrawn(assetId, attestorAddrs[0], address(0xBEEF), STAKE + 5);
        vm.prank(attestorAddrs[0]);
        assertEq(oracle.withdrawStake(assetId, address(0xBEEF)), STAKE + 5, "whole stake");
        assertEq(usdc.balanceOf(address(0xBEEF)), STAKE + 5, "paid out");
        vm.prank(attestorAddrs[0]);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleNothingToWithdraw.selector, attestorAddrs[0]));
        oracle.withdrawStake(assetId, attestorAddrs[0]);
    }

    function test_stake_LockedWhileADisputeIsOpen() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 9_950);
        oracle.submitReport(r, cosignFirst(r, 2));
        _challengeBy(challenger, 0);
        vm.prank(operator);
        registry.setStatus(assetId, AssetStatus.Retired);
        vm.prank(attestorAddrs[1]);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleStakeLocked.selector, assetId, attestorAddrs[1], 1, 0)
        );
        oracle.withdrawStake(assetId, attestorAddrs[1]);
    }

    function test_stake_LockedWhileALeaseIsCommitted() public {
        openLease(lessee, 2, 3, LeaseClass.Firm);
        vm.prank(operator);
        registry.setStatus(assetId, AssetStatus.Retired);
        vm.prank(attestorAddrs[1]);
        vm.expectRevert(
            abi.encodeWithSelector(IMetricsOracle.OracleStakeLocked.selector, assetId, attestorAddrs[1], 0, 2)
        );
        oracle.withdrawStake(assetId, attestorAddrs[1]);
    }

    function test_registerAsset_EmitsAttestorsRegistered() public {
        vm.expectEmit(true, false, false, true, address(oracle));
        emit IMetricsOracle.AttestorsRegistered(2, attestorAddrs, 1);
        registerDefault();
        (uint8 index, uint256 stake) = oracle.attestorOf(2, attestorAddrs[3]);
        assertEq(index, 4, "1-based index");
        assertEq(stake, 0, "unstaked until funded");
    }

    function test_onAssetRegistered_RefusesAnImpossibleFaultModel() public {
        RegistryStandIn standIn = new RegistryStandIn(address(usdc));
        MetricsOracle fresh = new MetricsOracle(ICapacityRegistry(address(standIn)), grid);
        address[] memory three = new address[](3);
        AttestationConfig memory c = oracle.configOf(assetId); // f = 1 needs four
        vm.prank(address(standIn));
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleInvalidAttestationConfig.selector, 3, 1));
        fresh.onAssetRegistered(1, c, three);
    }

    function test_onAssetRegistered_OnlyTheRegistry() public {
        AttestationConfig memory c = oracle.configOf(assetId);
        vm.expectRevert(abi.encodeWithSelector(IMetricsOracle.OracleOnlyRegistry.selector, address(this)));
        oracle.onAssetRegistered(7, c, attestorAddrs);
    }
}

/// @dev Only what the oracle's constructor reads of a registry: its stablecoin.
contract RegistryStandIn {
    address public stablecoin;

    constructor(address stablecoin_) {
        stablecoin = stablecoin_;
    }
}
