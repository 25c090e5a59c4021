// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Observation, Report} from "../interfaces/IMetricsOracle.sol";
import {ObservationsLib} from "./ObservationsLib.sol";

/// @title ReportHashLib
/// @notice EIP-712 struct hashes of observations and reports (the domain is the oracle's). The Python package
///         (`wellhead.chain.eip712`) defines the same types; shared vectors are checked on both sides.
library ReportHashLib {
    string internal constant OBSERVATION_TYPE = "Observation(uint8 observer,uint32 uptimeBps,uint32 curtailedBps,"
        "uint64 gpuEnergyWh,uint64 facilityEnergyWh,uint64 miningEnergyWh,uint64 miningRevenue,uint32 renewableBps,"
        "uint32 carbonGramsPerKwh,bytes32 evidenceHash)";
    bytes32 internal constant OBSERVATION_TYPEHASH = keccak256(bytes(OBSERVATION_TYPE));
    /// @dev What one attestor signs: its observation of an asset's epoch under a grid event (zero for none).
    bytes32 internal constant SIGNED_OBSERVATION_TYPEHASH = keccak256(
        abi.encodePacked(
            "SignedObservation(uint256 assetId,uint64 epoch,bytes32 gridEventId,Observation observation)",
            OBSERVATION_TYPE
        )
    );
    /// @dev What the co-signers sign: the observations and their signatures, exactly as submitted.
    bytes32 internal constant REPORT_TYPEHASH = keccak256(
        abi.encodePacked(
            "Report(uint256 assetId,uint64 epoch,bytes32 gridEventId,Observation[] observations,"
            "bytes observationSignatures)",
            OBSERVATION_TYPE
        )
    );

    function hashObservation(Observation calldata o) internal pure returns (bytes32) {
        return keccak256(abi.encode(OBSERVATION_TYPEHASH, o));
    }

    function hashSignedObservation(uint256 assetId, uint64 epoch, bytes32 gridEventId, bytes32 observationHash)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(SIGNED_OBSERVATION_TYPEHASH, assetId, epoch, gridEventId, observationHash));
    }

    /// @return structHash the report's EIP-712 struct hash
    /// @return observationHashes each observation's struct hash, in order (a fault proof reuses them)
    function hashReport(Report calldata r)
        internal
        pure
        returns (bytes32 structHash, bytes32[] memory observationHashes)
    {
        bytes32 arrayHash;
        (arrayHash, observationHashes) =
            ObservationsLib.hash(r.observations, ObservationsLib.count(r.observations), OBSERVATION_TYPEHASH);
        structHash = keccak256(
            abi.encode(
                REPORT_TYPEHASH, r.assetId, r.epoch, r.gridEventId, arrayHash, keccak256(r.observationSignatures)
            )
        );
    }
}
