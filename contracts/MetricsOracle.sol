// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";

import {AssetStatus, AssetTerms, ICapacityRegistry, ProtocolParams} from "./interfaces/ICapacityRegistry.sol";
import {IGridLedger} from "./interfaces/IGridLedger.sol";
import {IMetricsOracle, Report, ReportStatus, StoredReport} from "./interfaces/IMetricsOracle.sol";
import {Median} from "./libraries/Median.sol";

/// @title MetricsOracle
/// @notice See {IMetricsOracle}. EIP-712 domain: name "Wellhead MetricsOracle", version "1", this chain
///         and this contract (the domain separator is rebuilt if the chain id changes).
contract MetricsOracle is IMetricsOracle, EIP712, ERC165 {
    using SafeERC20 for IERC20;

    bytes32 public constant REPORT_TYPEHASH = keccak256(
        "Report(uint256 assetId,uint64 epoch,uint32 uptimeBps,uint32 curtailedBps,bytes32 gridEventId,"
        "uint64 gpuEnergyWh,uint64 facilityEnergyWh,uint64 miningEnergyWh,uint64 miningRevenue,uint32 renewableBps,uint32 carbonGramsPerKwh,bytes32 evidenceHash)"
    );
    uint256 private constant BPS = 10_000;
    /// @dev Carbon intensity above this (g/kWh) is not physical: the dirtiest grids are near 1,200.
    uint256 public constant MAX_CARBON_G_PER_KWH = 2_000;
    bytes32 private constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    struct Challenge {
        address challenger;
        uint96 bond;
    }

    ICapacityRegistry public immutable registry;
    IGridLedger public immutable gridLedger;
    IERC20 public immutable stablecoin;

    mapping(uint256 assetId => mapping(uint64 epoch => StoredReport)) private _reports;
    mapping(uint256 assetId => mapping(uint64 epoch => Challenge)) private _challenges;
    mapping(address account => uint256) private _credits;

    constructor(ICapacityRegistry registry_, IGridLedger gridLedger_) EIP712("Wellhead MetricsOracle", "1") {
        registry = registry_;
        gridLedger = gridLedger_;
        stablecoin = IERC20(registry_.stablecoin());
    }

    // ---------------------------------------------------------------- reports

    /// @inheritdoc IMetricsOracle
    function submitReport(Report[] calldata reports, bytes[] calldata signatures) external {
        uint256 n = reports.length;
        if (n == 0 || n != signatures.length) revert OracleLengthMismatch(n, signatures.length);
        Report calldata lead = reports[0];
        uint256 assetId = lead.assetId;
        uint64 epoch = lead.epoch;

        AssetTerms memory t = registry.terms(assetId);
        if (t.status == AssetStatus.None) revert OracleUnknownAsset(assetId);
        if (n < t.threshold) revert OracleBelowThreshold(n, t.threshold);
        (uint64 end, uint64 challengeEndsAt) = _submissionTimes(t, epoch);
        if (_reports[assetId][epoch].status != ReportStatus.None) revert OracleReportExists(assetId, epoch);

        address[] memory signers = _recoverSigners(reports, signatures);
        _requireDistinctAttestors(assetId, signers);

        Report memory median = _median(reports);
        _checkPlausible(median, t);
        if (median.curtailedBps != 0 || median.gridEventId != bytes32(0)) _checkCurtailment(median, t, end);
        _reports[assetId][epoch] = StoredReport({
            uptimeBps: median.uptimeBps,
            curtailedBps: median.curtailedBps,
            acceptedAt: uint64(block.timestamp),
            signerCount: uint8(n),
            status: ReportStatus.Pending,
            challengeEndsAt: challengeEndsAt
        });
        emit ReportAccepted(assetId, epoch, median, signers);
    }

    /// @dev Reverts unless the epoch has ended and its report deadline has not passed.
    /// @return end when the epoch ended
    /// @return challengeEndsAt when a report accepted now stops being challengeable
    function _submissionTimes(AssetTerms memory t, uint64 epoch)
        private
        view
        returns (uint64 end, uint64 challengeEndsAt)
    {
        end = t.genesis + (epoch + 1) * uint64(t.epochLength);
        if (block.timestamp < end) revert OracleEpochNotEnded(epoch, end);
        (uint32 reportDeadline, uint32 challengeWindow) = registry.reportTimes();
        uint64 deadline = end + reportDeadline;
        if (block.timestamp > deadline) revert OracleReportTooLate(epoch, deadline);
        challengeEndsAt = uint64(block.timestamp) + challengeWindow;
    }

    function _recoverSigners(Report[] calldata reports, bytes[] calldata signatures)
        private
        view
        returns (address[] memory signers)
    {
        Report calldata lead = reports[0];
        signers = new address[](reports.length);
        for (uint256 i; i < reports.length; ++i) {
            Report calldata r = reports[i];
            if (r.assetId != lead.assetId || r.epoch != lead.epoch) revert OracleReportMismatch(i, r.assetId, r.epoch);
            if (r.gridEventId != lead.gridEventId) revert OracleGridEventMismatch(i, r.gridEventId, lead.gridEventId);
            signers[i] = ECDSA.recover(_hashTypedDataV4(_structHash(r)), signatures[i]);
        }
    }

    function _requireDistinctAttestors(uint256 assetId, address[] memory signers) private view {
        uint8[] memory indexes = registry.attestorIndexes(assetId, signers);
        uint256 seen = 0;
        for (uint256 i; i < indexes.length; ++i) {
            uint256 index = indexes[i];
            if (index == 0) revert OracleUnknownSigner(signers[i]);
            uint256 bit = 1 << index;
            if (seen & bit != 0) revert OracleDuplicateSigner(signers[i]);
            seen |= bit;
        }
    }

    /// @dev Median of each numeric field (lower median for an even count); identifiers from the lead report.
    function _median(Report[] calldata reports) private pure returns (Report memory m) {
        uint256 n = reports.length;
        m = reports[0];
        if (n == 1) return m;
        uint256[] memory v = new uint256[](n);
        for (uint256 i; i < n; ++i) v[i] = reports[i].uptimeBps;
        m.uptimeBps = uint32(Median.compute(v));
        for (uint256 i; i < n; ++i) v[i] = reports[i].curtailedBps;
        m.curtailedBps = uint32(Median.compute(v));
        for (uint256 i; i < n; ++i) v[i] = reports[i].gpuEnergyWh;
        m.gpuEnergyWh = uint64(Median.compute(v));
        for (uint256 i; i < n; ++i) v[i] = reports[i].facilityEnergyWh;
        m.facilityEnergyWh = uint64(Median.compute(v));
        for (uint256 i; i < n; ++i) v[i] = reports[i].miningEnergyWh;
        m.miningEnergyWh = uint64(Median.compute(v));
        for (uint256 i; i < n; ++i) v[i] = reports[i].miningRevenue;
        m.miningRevenue = uint64(Median.compute(v));
        for (uint256 i; i < n; ++i) v[i] = reports[i].renewableBps;
        m.renewableBps = uint32(Median.compute(v));
        for (uint256 i; i < n; ++i) v[i] = reports[i].carbonGramsPerKwh;
        m.carbonGramsPerKwh = uint32(Median.compute(v));
    }

    function _checkPlausible(Report memory r, AssetTerms memory t) private pure {
        if (r.uptimeBps > BPS) revert OracleValueOutOfRange("uptimeBps", r.uptimeBps, BPS);
        if (r.curtailedBps > BPS) revert OracleValueOutOfRange("curtailedBps", r.curtailedBps, BPS);
        if (r.renewableBps > BPS) revert OracleValueOutOfRange("renewableBps", r.renewableBps, BPS);
        if (r.carbonGramsPerKwh > MAX_CARBON_G_PER_KWH) {
            revert OracleValueOutOfRange("carbonGramsPerKwh", r.carbonGramsPerKwh, MAX_CARBON_G_PER_KWH);
        }
        uint256 maxWh = uint256(t.gpuCount) * t.maxWattsPerGpu * t.epochLength / 3600;
        if (r.gpuEnergyWh > maxWh) revert OracleEnergyAboveCapacity(r.gpuEnergyWh, maxWh);
        // both are uint64: their sum fits in uint256
        if (r.facilityEnergyWh < uint256(r.gpuEnergyWh) + r.miningEnergyWh) {
            revert OracleFacilityBelowLoad(r.facilityEnergyWh, r.gpuEnergyWh, r.miningEnergyWh);
        }
    }

    /// @dev Curtailed time is accepted only inside a declared grid event of the same asset: at most the
    ///      share of the epoch the event covers (rounded up to a whole bps).
    function _checkCurtailment(Report memory r, AssetTerms memory t, uint64 epochEnd) private view {
        (bool known, uint64 covered) =
            gridLedger.overlap(r.gridEventId, r.assetId, epochEnd - uint64(t.epochLength), epochEnd);
        if (!known) revert OracleUnknownGridEvent(r.assetId, r.gridEventId);
        uint256 maxBps = (uint256(covered) * BPS + t.epochLength - 1) / t.epochLength;
        if (r.curtailedBps > maxBps) revert OracleCurtailmentOutsideEvent(r.gridEventId, r.curtailedBps, maxBps);
    }

    function _structHash(Report calldata r) private pure returns (bytes32) {
        return keccak256(abi.encode(REPORT_TYPEHASH, r));
    }

    /// @inheritdoc IMetricsOracle
    function hashReport(Report calldata report) external view returns (bytes32) {
        return _hashTypedDataV4(_structHash(report));
    }

    /// @notice The EIP-712 domain separator of this chain and contract.
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- challenges

    /// @inheritdoc IMetricsOracle
    function challenge(uint256 assetId, uint64 epoch) external {
        StoredReport storage r = _reports[assetId][epoch];
        uint64 windowEnd = r.challengeEndsAt;
        if (r.status != ReportStatus.Pending || block.timestamp >= windowEnd) {
            revert OracleNotChallengeable(assetId, epoch, r.status, windowEnd);
        }
        r.status = ReportStatus.Challenged;
        ProtocolParams memory p = registry.protocolParams();
        _challenges[assetId][epoch] = Challenge({challenger: msg.sender, bond: uint96(p.challengeBond)});
        emit ReportChallenged(assetId, epoch, msg.sender, p.challengeBond);
        stablecoin.safeTransferFrom(msg.sender, address(this), p.challengeBond);
    }

    /// @inheritdoc IMetricsOracle
    function resolveChallenge(uint256 assetId, uint64 epoch, bool fraud) external {
        if (!IAccessControl(address(registry)).hasRole(ARBITER_ROLE, msg.sender)) revert OracleNotArbiter(msg.sender);
        StoredReport storage r = _reports[assetId][epoch];
        if (r.status != ReportStatus.Challenged) revert OracleNotChallenged(assetId, epoch, r.status);
        Challenge memory c = _challenges[assetId][epoch];
        uint256 slashed = 0;
        uint256 challengerPaid = 0;
        if (fraud) {
            r.status = ReportStatus.Voided;
            ProtocolParams memory p = registry.protocolParams();
            uint256 toSlash = registry.bondOf(assetId) * p.fraudSlashBps / BPS;
            slashed = registry.slashBond(assetId, toSlash, address(this));
            uint256 reward = slashed * p.challengerRewardBps / BPS;
            challengerPaid = c.bond + reward;
            _credits[c.challenger] += challengerPaid;
            _credits[p.treasury] += slashed - reward;
        } else {
            r.status = ReportStatus.Upheld;
            _credits[registry.terms(assetId).operator] += c.bond;
        }
        emit ChallengeResolved(assetId, epoch, fraud, slashed, challengerPaid);
    }

    /// @inheritdoc IMetricsOracle
    function withdraw(address to) external returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert OracleNothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        emit CreditWithdrawn(msg.sender, to, amount);
        stablecoin.safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IMetricsOracle
    function outcome(uint256 assetId, uint64 epoch)
        external
        view
        returns (bool ready, bool proven, uint32 uptimeBps, uint32 curtailedBps)
    {
        StoredReport memory r = _reports[assetId][epoch];
        if (r.status == ReportStatus.None) {
            AssetTerms memory t = registry.terms(assetId);
            // slither-disable-next-line unused-return (only the deadline matters to an unreported epoch)
            (uint32 reportDeadline,) = registry.reportTimes();
            uint256 deadline = uint256(t.genesis) + (uint256(epoch) + 1) * t.epochLength + reportDeadline;
            return (block.timestamp > deadline, false, 0, 0);
        }
        if (r.status == ReportStatus.Challenged) return (false, false, 0, 0);
        if (r.status == ReportStatus.Voided) return (true, false, 0, 0);
        if (r.status == ReportStatus.Pending) {
            ready = block.timestamp >= r.challengeEndsAt;
        } else {
            ready = true; // Upheld
        }
        return (ready, true, r.uptimeBps, r.curtailedBps);
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
