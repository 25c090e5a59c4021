// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AssetStatus, ICapacityRegistry, ProtocolParams} from "../interfaces/ICapacityRegistry.sol";
import {IGridLedger} from "../interfaces/IGridLedger.sol";
import {ILeaseMarket} from "../interfaces/ILeaseMarket.sol";
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
} from "../interfaces/IMetricsOracle.sol";
import {Constants} from "../libraries/Constants.sol";
import {AttestationLib} from "../libraries/AttestationLib.sol";
import {ObservationsLib} from "../libraries/ObservationsLib.sol";
import {ReportHashLib} from "../libraries/ReportHashLib.sol";
import {SignatureLib} from "../libraries/SignatureLib.sol";
import {StablecoinLib} from "../libraries/StablecoinLib.sol";

import {OracleBase} from "./OracleBase.sol";

/// @title OracleDisputes
/// @notice Disputes of accepted reports: a bonded challenge the arbiter resolves (or that expires), proofs of
///         forged observations and of equivocation, and the slashes and rewards they bring.
abstract contract OracleDisputes is OracleBase {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    constructor(ICapacityRegistry registry_, IGridLedger gridLedger_) OracleBase(registry_, gridLedger_) {}

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
        if (v.uptimeBps > Constants.BPS || v.curtailedBps > Constants.BPS || (v.faultyAttestors >> n) != 0) {
            revert OracleInvalidVerdict(v.uptimeBps, v.curtailedBps, v.faultyAttestors);
        }
        ProtocolParams memory p = registry.protocolParams();
        (ReportStatus status, bool overstated) = _judge(r, v);
        // the bond slash is worked out here and taken last (after every state change); it never exceeds
        // the bond, so the registry moves all of it
        uint256 operatorSlashed = 0;
        if (overstated) {
            operatorSlashed = Math.mulDiv(registry.bondOf(assetId), p.fraudSlashBps, Constants.BPS, Math.Rounding.Ceil);
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
        internal
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
    ) internal returns (uint256 paid) {
        Challenge memory ch = _challenges[assetId][epoch];
        bool faultFound = status != ReportStatus.Upheld || faulty != 0;
        // an unbonded challenger risked nothing: no reward (its bond is zero, nothing returns)
        bool atFault = (overstated && ch.challenger == registry.terms(assetId).operator)
            || _isFlagged(assetId, ch.challenger, faulty) || _unbonded[assetId][epoch];
        uint256 toTreasury = slashed;
        if (faultFound && !atFault) {
            uint256 reward = slashed * p.challengerRewardBps / Constants.BPS;
            paid = ch.bond + reward;
            _credits[ch.challenger] += paid;
            toTreasury -= reward;
        } else {
            toTreasury += ch.bond;
        }
        if (toTreasury != 0) _credits[p.treasury] += toTreasury;
    }

    /// @dev Whether `account` is an attestor of the asset whose bit is set in `bits`.
    function _isFlagged(uint256 assetId, address account, uint32 bits) internal view returns (bool) {
        uint8 index = _attestors[assetId][account].index;
        return index != 0 && (bits >> (index - 1)) & 1 == 1;
    }

    /// @dev Slashes `slashBps` of the stake of every attestor in `bits` (rounded up, against the faulty).
    /// @return total what was slashed, now held here for the reward and the treasury
    function _slashAttestors(uint256 assetId, uint32 bits, uint16 slashBps) internal returns (uint256 total) {
        address[] storage list = _attestorList[assetId];
        for (uint256 i; bits != 0; ++i) {
            if (bits & 1 == 1) total += _slash(assetId, list[i], slashBps);
            bits >>= 1;
        }
    }

    function _slash(uint256 assetId, address attestor, uint16 slashBps) internal returns (uint256 amount) {
        AttestorRecord storage rec = _attestors[assetId][attestor];
        uint256 stake = rec.stake;
        amount = Math.mulDiv(stake, slashBps, Constants.BPS, Math.Rounding.Ceil);
        if (amount == 0) return 0;
        // amount <= stake since slashBps <= Constants.BPS
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
    function _punishCosigners(uint256 assetId, uint32 cosigners) internal returns (uint256 slashed, uint256 reward) {
        ProtocolParams memory p = registry.protocolParams();
        slashed = _slashAttestors(assetId, cosigners, p.attestorSlashBps);
        reward = _isFlagged(assetId, msg.sender, cosigners) ? 0 : slashed * p.challengerRewardBps / Constants.BPS;
        if (reward != 0) _credits[msg.sender] += reward;
        if (slashed != reward) _credits[p.treasury] += slashed - reward;
    }

    /// @dev Reverts unless `report` is the accepted one (its digest matches).
    /// @return invalid bitmap of the observers whose signature does not recover to them
    function _invalidObservations(Report calldata report, bytes18 accepted) internal view returns (uint32 invalid) {
        (bytes32 structHash, bytes32[] memory hashes) = ReportHashLib.hashReport(report);
        bytes18 presented = bytes18(_hashTypedDataV4(structHash));
        if (presented != accepted) revert OracleReportNotAccepted(report.assetId, report.epoch, presented, accepted);
        address[] storage list = _attestorList[report.assetId];
        for (uint256 i; i < hashes.length; ++i) {
            uint256 observer = ObservationsLib.field(report.observations, i, 0);
            bytes32 digest = _hashTypedDataV4(
                ReportHashLib.hashSignedObservation(report.assetId, report.epoch, report.gridEventId, hashes[i])
            );
            if (SignatureLib.recover(digest, report.observationSignatures, i) != list[observer - 1]) {
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
        uint256 reward = msg.sender == signer ? 0 : slashed * p.challengerRewardBps / Constants.BPS;
        if (reward != 0) _credits[msg.sender] += reward;
        if (slashed != reward) _credits[p.treasury] += slashed - reward;
        emit EquivocationProven(assetId, epoch, signer, msg.sender, slashed, reward);
    }

    function _recoverOne(bytes32 digest, bytes calldata signature) internal pure returns (address) {
        if (signature.length != SignatureLib.LENGTH) {
            revert OracleSignatureLength(signature.length, SignatureLib.LENGTH);
        }
        return SignatureLib.recover(digest, signature, 0);
    }
}
