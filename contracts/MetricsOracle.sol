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
import {AttestationLib} from "./libraries/AttestationLib.sol";
import {ObservationsLib} from "./libraries/ObservationsLib.sol";
import {ReportHashLib} from "./libraries/ReportHashLib.sol";
import {StablecoinLib} from "./libraries/StablecoinLib.sol";

/// @title MetricsOracle
/// @notice See {IMetricsOracle}. EIP-712 domain: name "Wellhead MetricsOracle", version "2", this chain and
///         this contract (the domain separator is rebuilt if the chain id changes).
/// @dev The hot path (submitReport) checks f+1 co-signatures, not the 2f+1 observation signatures: an honest
///      co-signer (there is one among any f+1) checked those. The observation signatures travel in the report
///      (and the co-signed digest covers them), so anyone can re-check them on chain during the window
///      (proveObservationFault): a report that passes with forged observations costs its co-signers their stake.
contract MetricsOracle is IMetricsOracle, EIP712, ERC165 {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    uint256 private constant BPS = 10_000;
    uint256 private constant SIGNATURE_LENGTH = 65;
    /// @dev secp256k1's group order n, and n / 2: a signature (r, s) with s above n / 2 is the twin of (r, n - s).
    /// @dev Carbon intensity above this (g/kWh) is not physical: the dirtiest grids are near 1,200.
    uint256 public constant MAX_CARBON_G_PER_KWH = ObservationsLib.MAX_CARBON_G_PER_KWH;
    bytes32 private constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    /// @dev An attestor of one asset: its 1-based index and its stake (one slot).
    struct AttestorRecord {
        uint8 index;
        uint128 stake;
    }

    struct Challenge {
        address challenger;
        uint96 bond;
    }

    ICapacityRegistry public immutable registry;
    IGridLedger public immutable gridLedger;
    IERC20 public immutable stablecoin;

    OracleParams private _params;
    mapping(uint256 assetId => AttestationConfig) private _configs;
    mapping(uint256 assetId => address[]) private _attestorList;
    mapping(uint256 assetId => mapping(address account => AttestorRecord)) private _attestors;
    mapping(uint256 assetId => uint256) private _openDisputes;
    mapping(uint256 assetId => mapping(uint64 epoch => StoredReport)) private _reports;
    mapping(uint256 assetId => mapping(uint64 epoch => Challenge)) private _challenges;
    mapping(bytes32 key => bool) private _equivocations; // keccak256(assetId, epoch, attestor)
    mapping(address account => uint256) private _credits;
    /// @dev Challenges lodged while the bond could not move (the stablecoin paused, or this contract frozen).
    mapping(uint256 assetId => mapping(uint64 epoch => bool)) private _unbonded;

    constructor(ICapacityRegistry registry_, IGridLedger gridLedger_) EIP712("Wellhead MetricsOracle", "2") {
        registry = registry_;
        gridLedger = gridLedger_;
        stablecoin = IERC20(registry_.stablecoin());
    }

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
        if (report.observationSignatures.length != k * SIGNATURE_LENGTH) {
            revert OracleSignatureLength(report.observationSignatures.length, k * SIGNATURE_LENGTH);
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
        uint256 rest = sigs.length % SIGNATURE_LENGTH;
        if (rest != 0) revert OracleSignatureLength(sigs.length, sigs.length - rest + SIGNATURE_LENGTH);
        uint256 m = sigs.length / SIGNATURE_LENGTH;
        uint256 needed = AttestationLib.cosignersNeeded(f);
        if (m < needed) revert OracleTooFewCosigners(m, needed);
        uint256 minStake = _params.minAttestorStake;
        mapping(address => AttestorRecord) storage records = _attestors[assetId];
        for (uint256 i; i < m; ++i) {
            address signer = _recover(digest, sigs, i);
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

    /// @dev The signer of the `i`-th 65-byte signature (r, s, v) in `sigs`, zero for an invalid one. Every
    ///      encoding of a genuine signature counts as its signer's: v as 0/1 or 27/28, and s in either half of
    ///      the curve order (the twin (r, n - s) with the other v; the precompile accepts both halves, unlike
    ///      OpenZeppelin's ECDSA, and recovers the same key). Agents and eth-account accept all of them, so the
    ///      chain must too: otherwise a faulty attestor could re-encode its own (or a relayed) signature and
    ///      have honest co-signers slashed for "forging" it. Nothing is identified by signature bytes:
    ///      duplicates are caught by signer.
    function _recover(bytes32 digest, bytes calldata sigs, uint256 i) private pure returns (address) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        // the caller checked that sigs holds at least i + 1 signatures of 65 bytes
        assembly ("memory-safe") {
            let p := add(sigs.offset, mul(i, SIGNATURE_LENGTH))
            r := calldataload(p)
            s := calldataload(add(p, 0x20))
            v := byte(0, calldataload(add(p, 0x40)))
        }
        if (v < 27) v += 27;
        return ecrecover(digest, v, r, s); // zero for any v other than 27 or 28, or r or s out of range
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
        maxBps = Math.mulDiv(covered, BPS, c.epochLength, Math.Rounding.Ceil);
    }

    // ---------------------------------------------------------------- disputes

    /// @inheritdoc IMetricsOracle
    function challenge(uint256 assetId, uint64 epoch) external {
        StoredReport storage r = _reports[assetId][epoch];
        uint40 windowEnd = r.challengeEndsAt;
        if (r.status != ReportStatus.Pending || block.timestamp >= windowEnd) {
            revert OracleNotChallengeable(assetId, epoch, r.status, windowEnd);
        }
        r.status = ReportStatus.Challenged;
        // from now on the field holds when the arbiter's time runs out
        r.challengeEndsAt = (block.timestamp + _params.disputeDeadline).toUint40();
        ++_openDisputes[assetId];
        uint256 bond = registry.protocolParams().challengeBond;
        emit ReportChallenged(assetId, epoch, msg.sender, bond);
        // A paused token (or a freeze of this contract) cannot move the bond: the challenge stands unbonded, so
        // a pause cannot close the window on a fraudulent report. Unbonded, it can win nothing (it risked
        // nothing, and it cannot be bonded later: paying only once the verdict is known would be a free
        // option); it delays the epoch at most until the arbiter rules or the dispute deadline passes.
        if (bond != 0 && (StablecoinLib.isPaused(stablecoin) || registry.isFrozen(address(this)))) {
            _challenges[assetId][epoch] = Challenge({challenger: msg.sender, bond: 0});
            _unbonded[assetId][epoch] = true;
            emit ChallengeUnbonded(assetId, epoch, msg.sender);
            return;
        }
        _challenges[assetId][epoch] = Challenge({challenger: msg.sender, bond: bond.toUint96()});
        StablecoinLib.pullExact(stablecoin, msg.sender, bond);
    }

    /// @inheritdoc IMetricsOracle
    function resolveChallenge(uint256 assetId, uint64 epoch, Verdict calldata v) external {
        if (!IAccessControl(address(registry)).hasRole(ARBITER_ROLE, msg.sender)) revert OracleNotArbiter(msg.sender);
        StoredReport storage r = _reports[assetId][epoch];
        if (r.status != ReportStatus.Challenged) revert OracleNotChallenged(assetId, epoch, r.status);
        uint256 n = _configs[assetId].attestorCount;
        if (v.uptimeBps > BPS || v.curtailedBps > BPS || (v.faultyAttestors >> n) != 0) {
            revert OracleInvalidVerdict(v.uptimeBps, v.curtailedBps, v.faultyAttestors);
        }
        ProtocolParams memory p = registry.protocolParams();
        (ReportStatus status, bool overstated) = _judge(r, v);
        // the bond slash is worked out here and taken last (after every state change); it never exceeds
        // the bond, so the registry moves all of it
        uint256 operatorSlashed = 0;
        if (overstated) {
            operatorSlashed = Math.mulDiv(registry.bondOf(assetId), p.fraudSlashBps, BPS, Math.Rounding.Ceil);
        }
        uint256 attestorsSlashed = _slashAttestors(assetId, v.faultyAttestors, p.attestorSlashBps);
        uint256 challengerPaid = _payChallenger(
            assetId, epoch, p, status, overstated, v.faultyAttestors, operatorSlashed + attestorsSlashed
        );
        r.status = status;
        r.uptimeBps = status == ReportStatus.Voided ? 0 : v.uptimeBps;
        r.curtailedBps = status == ReportStatus.Voided ? 0 : v.curtailedBps;
        --_openDisputes[assetId];
        emit ChallengeResolved(
            assetId,
            epoch,
            status,
            r.uptimeBps,
            r.curtailedBps,
            v.faultyAttestors,
            operatorSlashed,
            attestorsSlashed,
            challengerPaid
        );
        if (operatorSlashed != 0) {
            uint256 moved = registry.slashBond(assetId, operatorSlashed, address(this));
            if (moved != operatorSlashed) revert OracleBondShort(assetId, operatorSlashed, moved);
        }
    }

    /// @inheritdoc IMetricsOracle
    function expireChallenge(uint256 assetId, uint64 epoch) external {
        StoredReport storage r = _reports[assetId][epoch];
        if (r.status != ReportStatus.Challenged) revert OracleNotChallenged(assetId, epoch, r.status);
        uint40 resolveBy = r.challengeEndsAt;
        if (block.timestamp < resolveBy) revert OracleDisputeOpen(assetId, epoch, resolveBy);
        r.status = ReportStatus.Upheld;
        --_openDisputes[assetId];
        Challenge memory ch = _challenges[assetId][epoch];
        _credits[ch.challenger] += ch.bond;
        emit ChallengeExpired(assetId, epoch, ch.challenger, ch.bond);
    }

    /// @return status Upheld when the values stand, Corrected when they change, Voided
    /// @return overstated the report claimed more delivery than the truth: more uptime, or less curtailment
    function _judge(StoredReport storage r, Verdict calldata v)
        private
        view
        returns (ReportStatus status, bool overstated)
    {
        if (v.voided) return (ReportStatus.Voided, r.uptimeBps != 0);
        if (v.uptimeBps == r.uptimeBps && v.curtailedBps == r.curtailedBps) return (ReportStatus.Upheld, false);
        return (ReportStatus.Corrected, v.uptimeBps < r.uptimeBps || v.curtailedBps > r.curtailedBps);
    }

    /// @dev Pays the challenger its bond and a reward when a fault was found and it is not a party at fault
    ///      (the operator when the report overstated, or a faulty attestor); otherwise its bond joins the
    ///      slashes to the treasury.
    function _payChallenger(
        uint256 assetId,
        uint64 epoch,
        ProtocolParams memory p,
        ReportStatus status,
        bool overstated,
        uint32 faulty,
        uint256 slashed
    ) private returns (uint256 paid) {
        Challenge memory ch = _challenges[assetId][epoch];
        bool faultFound = status != ReportStatus.Upheld || faulty != 0;
        // an unbonded challenger risked nothing: no reward (its bond is zero, nothing returns)
        bool atFault = (overstated && ch.challenger == registry.terms(assetId).operator)
            || _isFlagged(assetId, ch.challenger, faulty) || _unbonded[assetId][epoch];
        uint256 toTreasury = slashed;
        if (faultFound && !atFault) {
            uint256 reward = slashed * p.challengerRewardBps / BPS;
            paid = ch.bond + reward;
            _credits[ch.challenger] += paid;
            toTreasury -= reward;
        } else {
            toTreasury += ch.bond;
        }
        if (toTreasury != 0) _credits[p.treasury] += toTreasury;
    }

    /// @dev Whether `account` is an attestor of the asset whose bit is set in `bits`.
    function _isFlagged(uint256 assetId, address account, uint32 bits) private view returns (bool) {
        uint8 index = _attestors[assetId][account].index;
        return index != 0 && (bits >> (index - 1)) & 1 == 1;
    }

    /// @dev Slashes `slashBps` of the stake of every attestor in `bits` (rounded up, against the faulty).
    /// @return total what was slashed, now held here for the reward and the treasury
    function _slashAttestors(uint256 assetId, uint32 bits, uint16 slashBps) private returns (uint256 total) {
        address[] storage list = _attestorList[assetId];
        for (uint256 i; bits != 0; ++i) {
            if (bits & 1 == 1) total += _slash(assetId, list[i], slashBps);
            bits >>= 1;
        }
    }

    function _slash(uint256 assetId, address attestor, uint16 slashBps) private returns (uint256 amount) {
        AttestorRecord storage rec = _attestors[assetId][attestor];
        uint256 stake = rec.stake;
        amount = Math.mulDiv(stake, slashBps, BPS, Math.Rounding.Ceil);
        if (amount == 0) return 0;
        // amount <= stake since slashBps <= BPS
        rec.stake = uint128(stake - amount);
        emit StakeSlashed(assetId, attestor, amount, stake - amount);
    }

    /// @inheritdoc IMetricsOracle
    function proveObservationFault(Report calldata report) external {
        uint256 assetId = report.assetId;
        uint64 epoch = report.epoch;
        StoredReport storage r = _reports[assetId][epoch];
        ReportStatus was = r.status;
        if (!(was == ReportStatus.Challenged || (was == ReportStatus.Pending && block.timestamp < r.challengeEndsAt))) {
            revert OracleNotProvable(assetId, epoch, was, r.challengeEndsAt);
        }
        uint32 invalid = _invalidObservations(report, r.digest);
        (uint256 slashed, uint256 reward) = _punishCosigners(assetId, r.cosigners);
        if (was == ReportStatus.Challenged) {
            // the challenger was right that the report was wrong: its bond comes back
            Challenge memory ch = _challenges[assetId][epoch];
            _credits[ch.challenger] += ch.bond;
            --_openDisputes[assetId];
        }
        // A forged observation means more than f co-signers lied: nothing in the report proves anything, and
        // taking the median again over the rest would let them choose it (they chose which signature to
        // forge). No proof, no pay.
        r.status = ReportStatus.Voided;
        r.uptimeBps = 0;
        r.curtailedBps = 0;
        emit ObservationFaultProven(assetId, epoch, msg.sender, invalid, slashed, reward);
    }

    /// @dev Slashes every co-signer of a report with forged observations; the prover gets the reward share
    ///      unless it is one of them, the treasury the rest.
    function _punishCosigners(uint256 assetId, uint32 cosigners) private returns (uint256 slashed, uint256 reward) {
        ProtocolParams memory p = registry.protocolParams();
        slashed = _slashAttestors(assetId, cosigners, p.attestorSlashBps);
        reward = _isFlagged(assetId, msg.sender, cosigners) ? 0 : slashed * p.challengerRewardBps / BPS;
        if (reward != 0) _credits[msg.sender] += reward;
        if (slashed != reward) _credits[p.treasury] += slashed - reward;
    }

    /// @dev Reverts unless `report` is the accepted one (its digest matches).
    /// @return invalid bitmap of the observers whose signature does not recover to them
    function _invalidObservations(Report calldata report, bytes18 accepted) private view returns (uint32 invalid) {
        (bytes32 structHash, bytes32[] memory hashes) = ReportHashLib.hashReport(report);
        bytes18 presented = bytes18(_hashTypedDataV4(structHash));
        if (presented != accepted) revert OracleReportNotAccepted(report.assetId, report.epoch, presented, accepted);
        address[] storage list = _attestorList[report.assetId];
        for (uint256 i; i < hashes.length; ++i) {
            uint256 observer = ObservationsLib.field(report.observations, i, 0);
            bytes32 digest = _hashTypedDataV4(
                ReportHashLib.hashSignedObservation(report.assetId, report.epoch, report.gridEventId, hashes[i])
            );
            if (_recover(digest, report.observationSignatures, i) != list[observer - 1]) {
                invalid |= uint32(1 << (observer - 1));
            }
        }
        if (invalid == 0) revert OracleNoFault(report.assetId, report.epoch);
    }

    /// @inheritdoc IMetricsOracle
    function proveEquivocation(
        uint256 assetId,
        uint64 epoch,
        SignedObservation calldata a,
        SignedObservation calldata b
    ) external {
        bytes32 digestA = _observationDigest(assetId, epoch, a.gridEventId, a.observation);
        bytes32 digestB = _observationDigest(assetId, epoch, b.gridEventId, b.observation);
        address signer = _recoverOne(digestA, a.signature);
        address signerB = _recoverOne(digestB, b.signature);
        if (digestA == digestB || signer != signerB || _attestors[assetId][signer].index == 0) {
            revert OracleNotEquivocation(signer, signerB);
        }
        bytes32 key = keccak256(abi.encode(assetId, epoch, signer));
        if (_equivocations[key]) revert OracleEquivocationProven(assetId, epoch, signer);
        _equivocations[key] = true;
        ProtocolParams memory p = registry.protocolParams();
        uint256 slashed = _slash(assetId, signer, p.attestorSlashBps);
        uint256 reward = msg.sender == signer ? 0 : slashed * p.challengerRewardBps / BPS;
        if (reward != 0) _credits[msg.sender] += reward;
        if (slashed != reward) _credits[p.treasury] += slashed - reward;
        emit EquivocationProven(assetId, epoch, signer, msg.sender, slashed, reward);
    }

    function _observationDigest(uint256 assetId, uint64 epoch, bytes32 gridEventId, Observation calldata o)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            ReportHashLib.hashSignedObservation(assetId, epoch, gridEventId, ReportHashLib.hashObservation(o))
        );
    }

    function _recoverOne(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != SIGNATURE_LENGTH) revert OracleSignatureLength(signature.length, SIGNATURE_LENGTH);
        return _recover(digest, signature, 0);
    }

    // ---------------------------------------------------------------- attestors and credits

    /// @inheritdoc IMetricsOracle
    function onAssetRegistered(uint256 assetId, AttestationConfig calldata config, address[] calldata list)
        external
        onlyRegistry
    {
        if (
            !AttestationLib.isValidFaultModel(list.length, config.faultTolerance) || config.attestorCount != list.length
        ) {
            revert OracleInvalidAttestationConfig(list.length, config.faultTolerance);
        }
        _configs[assetId] = config;
        _attestorList[assetId] = list;
        mapping(address => AttestorRecord) storage records = _attestors[assetId];
        for (uint256 i; i < list.length; ++i) {
            // i < 32 (checked above): i + 1 fits in uint8
            records[list[i]] = AttestorRecord({index: uint8(i + 1), stake: 0});
        }
        emit AttestorsRegistered(assetId, list, config.faultTolerance);
    }

    /// @inheritdoc IMetricsOracle
    function onParamsSet(OracleParams calldata p) external onlyRegistry {
        _params = p;
    }

    /// @inheritdoc IMetricsOracle
    function depositStake(uint256 assetId, address attestor, uint256 amount) external {
        if (amount == 0) revert OracleZeroAmount();
        AttestorRecord storage rec = _attestors[assetId][attestor];
        if (rec.index == 0) revert OracleUnknownSigner(attestor);
        uint256 stake = rec.stake + amount;
        rec.stake = stake.toUint128();
        emit StakeDeposited(assetId, attestor, msg.sender, amount, stake);
        StablecoinLib.pullExact(stablecoin, msg.sender, amount);
    }

    /// @inheritdoc IMetricsOracle
    function withdrawStake(uint256 assetId, address to) external returns (uint256 amount) {
        AttestorRecord storage rec = _attestors[assetId][msg.sender];
        amount = rec.stake;
        if (amount == 0) revert OracleNothingToWithdraw(msg.sender);
        uint256 disputes = _openDisputes[assetId];
        uint32 committed = ILeaseMarket(registry.leaseMarket()).ledgerOf(assetId).committedGpus;
        if (registry.terms(assetId).status != AssetStatus.Retired || committed != 0 || disputes != 0) {
            revert OracleStakeLocked(assetId, msg.sender, disputes, committed);
        }
        rec.stake = 0;
        emit StakeWithdrawn(assetId, msg.sender, to, amount);
        _payOut(to, amount);
    }

    /// @inheritdoc IMetricsOracle
    function withdraw(address to) external returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert OracleNothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        emit CreditWithdrawn(msg.sender, to, amount);
        _payOut(to, amount);
    }

    /// @dev Pays from what this contract holds, first drawing the bond slashes the registry holds for it
    ///      when that is short (slashes move no tokens, so disputes never wait on the token). The caller is
    ///      checked against the issuer's freeze here, for every payout.
    function _payOut(address to, uint256 amount) private {
        if (to != msg.sender && registry.isFrozen(msg.sender)) revert StablecoinAccountFrozen(msg.sender);
        if (stablecoin.balanceOf(address(this)) < amount) {
            uint256 slashed = registry.slashedFor(address(this));
            if (slashed != 0) registry.release(address(this), slashed);
        }
        stablecoin.safeTransfer(to, amount);
    }

    modifier onlyRegistry() {
        if (msg.sender != address(registry)) revert OracleOnlyRegistry(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IMetricsOracle
    function outcome(uint256 assetId, uint64 epoch)
        external
        view
        returns (bool ready, bool proven, uint32 uptimeBps, uint32 curtailedBps)
    {
        StoredReport memory r = _reports[assetId][epoch];
        // slither-disable-start incorrect-equality (enum comparisons, not balances)
        if (r.status == ReportStatus.None) {
            AttestationConfig memory c = _configs[assetId];
            uint256 deadline = uint256(c.genesis) + (uint256(epoch) + 1) * c.epochLength + _params.reportDeadline;
            return (block.timestamp > deadline, false, 0, 0);
        }
        if (r.status == ReportStatus.Challenged) return (false, false, 0, 0);
        if (r.status == ReportStatus.Voided) return (true, false, 0, 0);
        // slither-disable-end incorrect-equality
        // Pending settles once its window has passed; Upheld and Corrected are final
        ready = r.status != ReportStatus.Pending || block.timestamp >= r.challengeEndsAt;
        return (ready, true, r.uptimeBps, r.curtailedBps);
    }

    /// @inheritdoc IMetricsOracle
    function hashReport(Report calldata report) external view returns (bytes32) {
        // slither-disable-next-line unused-return (the observations' own hashes are for fault proofs)
        (bytes32 structHash,) = ReportHashLib.hashReport(report);
        return _hashTypedDataV4(structHash);
    }

    /// @inheritdoc IMetricsOracle
    function hashObservation(uint256 assetId, uint64 epoch, bytes32 gridEventId, Observation calldata observation)
        external
        view
        returns (bytes32)
    {
        return _observationDigest(assetId, epoch, gridEventId, observation);
    }

    /// @notice The EIP-712 domain separator of this chain and contract.
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function REPORT_TYPEHASH() external pure returns (bytes32) {
        return ReportHashLib.REPORT_TYPEHASH;
    }

    function OBSERVATION_TYPEHASH() external pure returns (bytes32) {
        return ReportHashLib.OBSERVATION_TYPEHASH;
    }

    function SIGNED_OBSERVATION_TYPEHASH() external pure returns (bytes32) {
        return ReportHashLib.SIGNED_OBSERVATION_TYPEHASH;
    }

    function configOf(uint256 assetId) external view returns (AttestationConfig memory) {
        return _configs[assetId];
    }

    function params() external view returns (OracleParams memory) {
        return _params;
    }

    function attestors(uint256 assetId) external view returns (address[] memory) {
        return _attestorList[assetId];
    }

    function attestorOf(uint256 assetId, address account) external view returns (uint8 index, uint256 stake) {
        AttestorRecord memory rec = _attestors[assetId][account];
        return (rec.index, rec.stake);
    }

    function openDisputes(uint256 assetId) external view returns (uint256) {
        return _openDisputes[assetId];
    }

    function reportOf(uint256 assetId, uint64 epoch) external view returns (StoredReport memory) {
        return _reports[assetId][epoch];
    }

    function challengerOf(uint256 assetId, uint64 epoch) external view returns (address) {
        return _challenges[assetId][epoch].challenger;
    }

    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IMetricsOracle).interfaceId || super.supportsInterface(interfaceId);
    }
}
