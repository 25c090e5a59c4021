// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {GridEvent, GridEventSource} from "../../../contracts/interfaces/IGridLedger.sol";
import {Report} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Test} from "./Test.sol";

/// @notice What the invariant handlers share: a report signed by two attestors, and time that only moves on.
abstract contract HandlerBase is Test {
    /// @dev Submits one epoch's report, the same values signed by the two attestors holding `keys`.
    function _submitReport(MetricsOracle oracle, uint256[2] memory keys, Report memory r) internal {
        Report[] memory rs = new Report[](2);
        bytes[] memory sigs = new bytes[](2);
        for (uint256 i; i < 2; ++i) {
            rs[i] = r;
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(keys[i], oracle.hashReport(r));
            sigs[i] = abi.encodePacked(rr, s, v);
        }
        oracle.submitReport(rs, sigs);
    }

    /// @dev A plausible report of one epoch: only uptime and curtailment vary.
    function _report(uint256 assetId, uint64 epoch, uint32 uptime, uint32 curtailed)
        internal
        pure
        returns (Report memory)
    {
        return Report({
            assetId: assetId,
            epoch: epoch,
            uptimeBps: uptime,
            curtailedBps: curtailed,
            gridEventId: curtailed == 0 ? bytes32(0) : _gridEventId(assetId, epoch),
            gpuEnergyWh: 1_000,
            facilityEnergyWh: 1_200,
            miningEnergyWh: 0,
            miningRevenue: 0,
            renewableBps: 5_000,
            carbonGramsPerKwh: 300,
            evidenceHash: bytes32(uint256(epoch))
        });
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

    /// @dev An OpenADR event covering [startsAt, endsAt), attested by the attestor holding `key`.
    function _declareGridEvent(
        MetricsOracle oracle,
        uint256 key,
        uint256 assetId,
        uint64 epoch,
        uint64 startsAt,
        uint64 endsAt
    ) internal {
        GridEvent memory ev =
            _gridEvent(assetId, _gridEventId(assetId, epoch), GridEventSource.OpenAdr, startsAt, endsAt);
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(key, oracle.gridLedger().hashEvent(ev));
        oracle.gridLedger().declareEvent(ev, abi.encodePacked(rr, s, v));
    }

    function _warpTo(uint256 ts) internal {
        if (block.timestamp < ts) vm.warp(ts);
    }
}
