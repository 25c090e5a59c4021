// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AssetStatus, ICapacityRegistry, ProtocolParams} from "./interfaces/ICapacityRegistry.sol";
import {IGridLedger} from "./interfaces/IGridLedger.sol";
import {ILeaseMarket} from "./interfaces/ILeaseMarket.sol";
import {
    AttestationConfig,
    IMetricsOracle,
    Observation,
    OracleParams,
    Report,
    ReportStatus,
    SignedObservation,
    StoredReport,
    Verdict
} from "./interfaces/IMetricsOracle.sol";
import {Constants} from "./libraries/Constants.sol";
import {AttestationLib} from "./libraries/AttestationLib.sol";
import {ObservationsLib} from "./libraries/ObservationsLib.sol";
import {ReportHashLib} from "./libraries/ReportHashLib.sol";
import {SignatureLib} from "./libraries/SignatureLib.sol";
import {StablecoinLib} from "./libraries/StablecoinLib.sol";

import {OracleDisputes} from "./oracle/OracleDisputes.sol";

/// @title MetricsOracle
/// @notice See {IMetricsOracle}. EIP-712 domain: name "Wellhead MetricsOracle", version "2", this chain and
///         this contract (the domain separator is rebuilt if the chain id changes).
/// @dev The hot path (submitReport) checks f+1 co-signatures, not the 2f+1 observation signatures: an honest
///      co-signer (there is one among any f+1) checked those. The observation signatures travel in the report
///      (and the co-signed digest covers them), so anyone can re-check them on chain during the window
///      (proveObservationFault): a report that passes with forged observations costs its co-signers their stake.
///      The state, attestors and reads are {OracleBase}'s, the disputes {OracleDisputes}'.
contract MetricsOracle is OracleDisputes {
    using SafeCast for uint256;

    constructor(ICapacityRegistry registry_, IGridLedger gridLedger_) OracleDisputes(registry_, gridLedger_) {}

    // ---------------------------------------------------------------- reports

    /// @inheritdoc IMetricsOracle
    function submitReport(Report calldata report, bytes calldata cosignatures) external {
        AttestationConfig memory c = _configs[report.assetId];
        (uint40 challengeEndsAt, uint256 k) = _checkShape(report, c);
        uint32 observers = ObservationsLib.check(report.observations, k, c.attestorCount, c.maxGpuEnergyWh);
        bytes32 digest = _reportDigest(report);
        uint32 cosigners = _checkCosigners(report.assetId, c.faultTolerance, digest, cosignatures);
        (uint256 uptime, uint256 curtailed) = _medians(report, k, c);
        // medians of values checked <= 10,000: they fit 16 bits
        _reports[report.assetId][report.epoch] = StoredReport({
            uptimeBps: uint16(uptime),
            curtailedBps: uint16(curtailed),
            status: ReportStatus.Pending,
            challengeEndsAt: challengeEndsAt,
            cosigners: cosigners,
            digest: bytes18(digest)
        });
        _emitAccepted(report, uint16(uptime), uint16(curtailed), observers, cosigners, digest);
    }

    function _emitAccepted(
        Report calldata report,
        uint16 uptime,
        uint16 curtailed,
        uint32 observers,
        uint32 cosigners,
        bytes32 digest
    ) private {
        emit ReportAccepted(
            report.assetId, report.epoch, uptime, curtailed, report.gridEventId, observers, cosigners, digest
        );
    }

    function _reportDigest(Report calldata report) private view returns (bytes32) {
        // slither-disable-next-line unused-return (the observations' own hashes are for fault proofs)
        (bytes32 structHash,) = ReportHashLib.hashReport(report);
        return _hashTypedDataV4(structHash);
    }

    /// @dev The settlement medians; curtailed time only inside a declared grid event of the asset.
    function _medians(Report calldata report, uint256 k, AttestationConfig memory c)
        private
        view
        returns (uint256 uptime, uint256 curtailed)
    {
        // slither-disable-next-line unused-return (nothing excluded: every observation takes part)
        (uptime, curtailed,) = ObservationsLib.settlementMedians(report.observations, k, 0);
        if (curtailed != 0 || report.gridEventId != bytes32(0)) {
            uint256 end = uint256(c.genesis) + (uint256(report.epoch) + 1) * c.epochLength;
            uint256 maxBps = _curtailmentBound(report.assetId, report.gridEventId, c, end);
            if (curtailed > maxBps) revert OracleCurtailmentOutsideEvent(report.gridEventId, curtailed, maxBps);
        }
    }

    /// @dev The asset is known, the report has a quorum of observations with a signature each, its epoch is
    ///      open for reports and has none yet.
    /// @return challengeEndsAt when a report accepted now stops being challengeable
    /// @return k the number of observations
    function _checkShape(Report calldata report, AttestationConfig memory c)
        private
        view
        returns (uint40 challengeEndsAt, uint256 k)
    {
        if (c.attestorCount == 0) revert OracleUnknownAsset(report.assetId);
        k = ObservationsLib.count(report.observations);
        uint256 q = AttestationLib.quorum(c.faultTolerance);
        if (k < q || k > c.attestorCount) revert OracleObservationCount(k, q, c.attestorCount);
        if (report.observationSignatures.length != k * SignatureLib.LENGTH) {
            revert OracleSignatureLength(report.observationSignatures.length, k * SignatureLib.LENGTH);
        }
        challengeEndsAt = _submissionTimes(c, report.epoch);
        if (_reports[report.assetId][report.epoch].status != ReportStatus.None) {
            revert OracleReportExists(report.assetId, report.epoch);
        }
    }

    /// @dev Reverts unless the epoch has ended and its report deadline has not passed.
    /// @return challengeEndsAt when a report accepted now stops being challengeable
    function _submissionTimes(AttestationConfig memory c, uint64 epoch) private view returns (uint40 challengeEndsAt) {
        uint256 end = uint256(c.genesis) + (uint256(epoch) + 1) * c.epochLength;
        if (block.timestamp < end) revert OracleEpochNotEnded(epoch, uint64(Math.min(end, type(uint64).max)));
        OracleParams memory p = _params;
        // end <= block.timestamp here, far below 2^64
        uint256 deadline = end + p.reportDeadline;
        if (block.timestamp > deadline) revert OracleReportTooLate(epoch, uint64(deadline));
        challengeEndsAt = (block.timestamp + p.challengeWindow).toUint40();
    }

    /// @dev At least f+1 distinct attestors of the asset, each with the minimum stake, signed `digest`.
    /// @return cosigners bitmap of the co-signers
    function _checkCosigners(uint256 assetId, uint256 f, bytes32 digest, bytes calldata sigs)
        private
        view
        returns (uint32 cosigners)
    {
        uint256 rest = sigs.length % SignatureLib.LENGTH;
        if (rest != 0) revert OracleSignatureLength(sigs.length, sigs.length - rest + SignatureLib.LENGTH);
        uint256 m = sigs.length / SignatureLib.LENGTH;
        uint256 needed = AttestationLib.cosignersNeeded(f);
        if (m < needed) revert OracleTooFewCosigners(m, needed);
        uint256 minStake = _params.minAttestorStake;
        mapping(address => AttestorRecord) storage records = _attestors[assetId];
        for (uint256 i; i < m; ++i) {
            address signer = SignatureLib.recover(digest, sigs, i);
            if (signer == address(0)) revert OracleInvalidSignature(i);
            AttestorRecord memory rec = records[signer];
            if (rec.index == 0) revert OracleUnknownSigner(signer);
            // index <= 32: the bit fits
            uint32 bit = uint32(1 << (rec.index - 1));
            if (cosigners & bit != 0) revert OracleDuplicateSigner(signer);
            if (rec.stake < minStake) revert OracleCosignerUnderstaked(signer, rec.stake, minStake);
            cosigners |= bit;
        }
    }

    /// @dev The most curtailed time (bps, rounded up) the grid event allows in the epoch ending at `end`;
    ///      reverts if it is not a declared event of the asset.
    function _curtailmentBound(uint256 assetId, bytes32 gridEventId, AttestationConfig memory c, uint256 end)
        private
        view
        returns (uint256 maxBps)
    {
        // end - epochLength >= genesis; both below 2^64 (end <= block.timestamp)
        (bool known, uint64 covered) =
            gridLedger.overlap(gridEventId, assetId, uint64(end - c.epochLength), uint64(end));
        if (!known) revert OracleUnknownGridEvent(assetId, gridEventId);
        maxBps = Math.mulDiv(covered, Constants.BPS, c.epochLength, Math.Rounding.Ceil);
    }
}
