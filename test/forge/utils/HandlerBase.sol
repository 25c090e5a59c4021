// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CapacityRegistry} from "../../../contracts/CapacityRegistry.sol";
import {LeaseMarket} from "../../../contracts/LeaseMarket.sol";
import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {AssetTerms} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {GridEvent, GridEventSource} from "../../../contracts/interfaces/IGridLedger.sol";
import {Observation, Report} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Test} from "./Test.sol";

/// @notice What the invariant handlers share: signed observations, co-signed reports, and time that only
///         moves on.
abstract contract HandlerBase is Test {
    /// @dev A plausible observation: only uptime and curtailment vary.
    function _observation(uint8 observer, uint32 uptime, uint32 curtailed) internal pure returns (Observation memory) {
        return Observation({
            observer: observer,
            uptimeBps: uptime,
            curtailedBps: curtailed,
            gpuEnergyWh: 1_000,
            facilityEnergyWh: 1_200,
            miningEnergyWh: 0,
            miningRevenue: 0,
            renewableBps: 5_000,
            carbonGramsPerKwh: 300,
            evidenceHash: keccak256(abi.encode("evidence", observer, uptime))
        });
    }

    function _sig(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(rr, s, v);
    }

    /// @dev A report of `obs` (ascending observers), each observation signed by the key in `observerKeys` at
    ///      the same position.
    function _buildReport(
        MetricsOracle oracle,
        uint256 assetId,
        uint64 epoch,
        bytes32 gridEventId,
        Observation[] memory obs,
        uint256[] memory observerKeys
    ) internal view returns (Report memory r) {
        bytes memory sigs;
        for (uint256 i; i < obs.length; ++i) {
            bytes32 d = oracle.hashObservation(assetId, epoch, gridEventId, obs[i]);
            sigs = bytes.concat(sigs, _sig(observerKeys[i], d));
        }
        r = Report({
            assetId: assetId,
            epoch: epoch,
            gridEventId: gridEventId,
            observations: _pack(obs),
            observationSignatures: sigs
        });
    }

    /// @dev The observations packed as a report carries them (73 bytes each; layout: ObservationsLib).
    function _pack(Observation[] memory obs) internal pure returns (bytes memory packed) {
        for (uint256 i; i < obs.length; ++i) {
            Observation memory o = obs[i];
            packed = bytes.concat(
                packed,
                abi.encodePacked(
                    o.observer,
                    uint16(o.uptimeBps),
                    uint16(o.curtailedBps),
                    o.gpuEnergyWh,
                    o.facilityEnergyWh,
                    o.miningEnergyWh,
                    o.miningRevenue,
                    uint16(o.renewableBps),
                    uint16(o.carbonGramsPerKwh),
                    o.evidenceHash
                )
            );
        }
    }

    /// @dev The report's co-signatures by each key, concatenated.
    function _cosign(MetricsOracle oracle, Report memory r, uint256[] memory keys)
        internal
        view
        returns (bytes memory sigs)
    {
        bytes32 d = oracle.hashReport(r);
        for (uint256 i; i < keys.length; ++i) {
            sigs = bytes.concat(sigs, _sig(keys[i], d));
        }
    }

    /// @dev Submits one epoch's report: the attestors holding `keys` (observers 1..3) observe the same values;
    ///      the first two co-sign (f = 1: quorum 3, co-signers 2).
    function _submitReport(
        MetricsOracle oracle,
        uint256[3] memory keys,
        uint256 assetId,
        uint64 epoch,
        uint32 uptime,
        uint32 curtailed
    ) internal {
        Observation[] memory obs = new Observation[](3);
        uint256[] memory observerKeys = new uint256[](3);
        for (uint256 i; i < 3; ++i) {
            obs[i] = _observation(uint8(i + 1), uptime, curtailed);
            observerKeys[i] = keys[i];
        }
        bytes32 gridEventId = curtailed == 0 ? bytes32(0) : _declarationId(oracle, keys[0], assetId, epoch);
        Report memory r = _buildReport(oracle, assetId, epoch, gridEventId, obs, observerKeys);
        uint256[] memory cosigners = new uint256[](2);
        cosigners[0] = keys[0];
        cosigners[1] = keys[1];
        oracle.submitReport(r, _cosign(oracle, r, cosigners));
    }

    function _gridEvent(uint256 assetId, bytes32 id, GridEventSource source, uint256 startsAt, uint256 endsAt)
        internal
        pure
        returns (GridEvent memory)
    {
        return GridEvent({
            assetId: assetId,
            eventId: id,
            source: source,
            startsAt: uint64(startsAt),
            endsAt: uint64(endsAt),
            payloadHash: keccak256(abi.encode("notice", id))
        });
    }

    function _gridEventId(uint256 assetId, uint64 epoch) internal pure returns (bytes32) {
        return keccak256(abi.encode("GRID", assetId, epoch));
    }

    /// @dev The declaration id under which the attestor holding `key` declared the epoch's grid event.
    function _declarationId(MetricsOracle oracle, uint256 key, uint256 assetId, uint64 epoch)
        internal
        view
        returns (bytes32)
    {
        return oracle.gridLedger().declarationId(assetId, _gridEventId(assetId, epoch), vm.addr(key));
    }

    /// @dev An OpenADR event covering [startsAt, endsAt), attested by the attestor holding `key`.
    function _declareGridEvent(
        MetricsOracle oracle,
        uint256 key,
        uint256 assetId,
        uint64 epoch,
        uint64 startsAt,
        uint64 endsAt
    ) internal {
        GridEvent memory ev = _gridEvent(
            assetId, _gridEventId(assetId, epoch), GridEventSource.OpenAdr, startsAt, endsAt
        );
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(key, oracle.gridLedger().hashEvent(ev));
        oracle.gridLedger().declareEvent(ev, abi.encodePacked(rr, s, v));
    }

    /// @dev Settles the asset's next epoch: a report at `uptime` by the first three `keys` when it ends, or none
    ///      (then, or when the deadline already passed, the epoch settles unproven), then finalization.
    function _settleNextEpoch(
        CapacityRegistry registry,
        LeaseMarket market,
        MetricsOracle oracle,
        uint256[3] memory keys,
        uint256 assetId,
        uint32 uptime,
        bool report
    ) internal {
        AssetTerms memory t = registry.terms(assetId);
        uint64 epoch = market.ledgerOf(assetId).nextEpochToFinalize;
        uint256 end = uint256(t.genesis) + uint256(epoch + 1) * t.epochLength;
        // Too late to report once the deadline passed (earlier skipped epochs may have taken the time).
        if (block.timestamp > end + registry.protocolParams().reportDeadline) report = false;
        if (report) {
            _warpTo(end);
            _submitReport(oracle, keys, assetId, epoch, uptime, 0);
            _warpTo(block.timestamp + registry.protocolParams().challengeWindow);
        } else {
            _warpTo(end + registry.protocolParams().reportDeadline + 1);
        }
        market.finalizeEpoch(assetId, epoch);
    }

    function _warpTo(uint256 ts) internal {
        if (block.timestamp < ts) vm.warp(ts);
    }
}
