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

/// @title OracleBase
/// @notice The MetricsOracle's state, its attestors and their stakes, the credits it pays out, its reads, and
///         the slashing both reports and disputes use. {OracleDisputes} and {MetricsOracle} build on it.
abstract contract OracleBase is IMetricsOracle, EIP712, ERC165 {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @dev Carbon intensity above this (g/kWh) is not physical: the dirtiest grids are near 1,200.
    uint256 public constant MAX_CARBON_G_PER_KWH = ObservationsLib.MAX_CARBON_G_PER_KWH;
    bytes32 internal constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

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

    OracleParams internal _params;
    mapping(uint256 assetId => AttestationConfig) internal _configs;
    mapping(uint256 assetId => address[]) internal _attestorList;
    mapping(uint256 assetId => mapping(address account => AttestorRecord)) internal _attestors;
    mapping(uint256 assetId => uint256) internal _openDisputes;
    mapping(uint256 assetId => mapping(uint64 epoch => StoredReport)) internal _reports;
    mapping(uint256 assetId => mapping(uint64 epoch => Challenge)) internal _challenges;
    mapping(bytes32 key => bool) internal _equivocations; // keccak256(assetId, epoch, attestor)
    mapping(address account => uint256) internal _credits;
    /// @dev Challenges lodged while the bond could not move (the stablecoin paused, or this contract frozen).
    mapping(uint256 assetId => mapping(uint64 epoch => bool)) internal _unbonded;

    constructor(ICapacityRegistry registry_, IGridLedger gridLedger_) EIP712("Wellhead MetricsOracle", "2") {
        registry = registry_;
        gridLedger = gridLedger_;
        stablecoin = IERC20(registry_.stablecoin());
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
    function _payOut(address to, uint256 amount) internal {
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

    /// @dev The EIP-712 digest an attestor signs for its observation of the asset's epoch.
    function _observationDigest(uint256 assetId, uint64 epoch, bytes32 gridEventId, Observation calldata o)
        internal
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            ReportHashLib.hashSignedObservation(assetId, epoch, gridEventId, ReportHashLib.hashObservation(o))
        );
    }
}
