// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {
    AssetParams,
    AssetStatus,
    AssetTerms,
    ICapacityRegistry,
    PricingCurve,
    ProtocolParams
} from "./interfaces/ICapacityRegistry.sol";
import {ILeaseMarket} from "./interfaces/ILeaseMarket.sol";
import {AttestationConfig, IMetricsOracle, OracleParams} from "./interfaces/IMetricsOracle.sol";
import {Blocklist} from "./interfaces/IStablecoinGuard.sol";
import {AttestationLib} from "./libraries/AttestationLib.sol";
import {StablecoinLib} from "./libraries/StablecoinLib.sol";
import {CapacityShares} from "./CapacityShares.sol";
import {CapacitySharesFactory} from "./CapacitySharesFactory.sol";
import {Constants} from "./libraries/Constants.sol";

/// @title CapacityRegistry
/// @notice See {ICapacityRegistry}. Immutable; the LeaseMarket and MetricsOracle are wired in once.
contract CapacityRegistry is ICapacityRegistry, AccessControl {
    using SafeERC20 for IERC20;

    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    uint256 public constant BPS = Constants.BPS;
    uint256 public constant MAX_ATTESTORS = 32; // attestor sets are 32-bit bitmaps in the oracle
    uint256 public constant MAX_PROTOCOL_FEE_BPS = 2_000;
    uint256 public constant MAX_OPERATOR_FEE_BPS = 5_000;
    uint32 public constant MIN_EPOCH_LENGTH = 60;
    uint32 public constant MAX_EPOCH_LENGTH = 30 days;
    uint256 public constant MAX_INVESTORS = 64;
    /// @notice One whole share: a floor on the supply keeps each holder's revenue record in one slot.
    uint256 public constant MIN_TOTAL_SHARES = 1e18;
    uint16 public constant MAX_CURTAILMENT_CAP_HOURS = 720; // every hour of 30 days
    /// @notice The furthest ahead a grid event may be declared: a week (a day-ahead market calls a day ahead).
    uint32 public constant MAX_GRID_EVENT_HORIZON = 7 days;
    /// @notice The longest the arbiter may be given to rule on a challenge while settlement waits.
    uint32 public constant MAX_DISPUTE_DEADLINE = 30 days;

    struct AssetInfo {
        bytes32 siteId;
        bytes32 gpuClass;
    }

    IERC20 private immutable _stablecoin;
    uint256 private immutable _wholeCoin;
    address private immutable _blocklistTarget;
    bytes4 private immutable _blocklistSelector;
    CapacitySharesFactory public immutable sharesFactory;
    address public override leaseMarket;
    address public override metricsOracle;
    ProtocolParams private _params;

    uint256 private _assetCount;
    mapping(uint256 assetId => AssetTerms) private _terms;
    mapping(uint256 assetId => PricingCurve) private _curves;
    mapping(uint256 assetId => AssetInfo) public info;
    mapping(uint256 assetId => uint256) private _bonds;
    /// @dev Bond slashed for a protocol contract (the LeaseMarket's credits, the oracle's fraud slashes),
    ///      still held here: a slash moves no tokens, so settlement and disputes never wait on the token.
    mapping(address recipient => uint256) private _slashed;
    /// @dev Assets the pauser role paused: only the pauser role may make them active again.
    mapping(uint256 assetId => bool) public override pausedByPauser;

    /// @param blocklist_ where the issuer's blocklist is read (a zero target: the token has none)
    constructor(
        address admin,
        IERC20 stablecoin_,
        CapacitySharesFactory factory,
        ProtocolParams memory params,
        Blocklist memory blocklist_
    ) {
        if (admin == address(0) || address(stablecoin_) == address(0) || address(factory) == address(0)) {
            revert RegistryInvalidAddress();
        }
        _wholeCoin = StablecoinLib.wholeCoin(stablecoin_);
        _stablecoin = stablecoin_;
        _blocklistTarget = blocklist_.target;
        _blocklistSelector = blocklist_.selector;
        sharesFactory = factory;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, admin);
        _grantRole(ARBITER_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _setParams(params);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Wires the LeaseMarket and MetricsOracle, once.
    function wire(address market, address oracle) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (leaseMarket != address(0)) revert RegistryAlreadyWired();
        if (market == address(0) || oracle == address(0)) revert RegistryInvalidAddress();
        leaseMarket = market;
        metricsOracle = oracle;
        emit ProtocolContractsWired(market, oracle);
        _pushOracleParams();
    }

    function setProtocolParams(ProtocolParams calldata params) external onlyRole(GOVERNOR_ROLE) {
        _setParams(params);
    }

    function _setParams(ProtocolParams memory params) private {
        if (params.treasury == address(0)) revert RegistryInvalidAddress();
        if (params.protocolFeeBps > MAX_PROTOCOL_FEE_BPS) {
            revert RegistryFeeTooHigh(params.protocolFeeBps, MAX_PROTOCOL_FEE_BPS);
        }
        if (params.fraudSlashBps > BPS) revert RegistryInvalidBps(params.fraudSlashBps);
        // below 100 %: a party at fault that challenges itself through another address still loses the rest
        if (params.challengerRewardBps >= BPS) revert RegistryInvalidBps(params.challengerRewardBps);
        if (params.attestorSlashBps > BPS) revert RegistryInvalidBps(params.attestorSlashBps);
        if (params.minAttestorStake > type(uint128).max) revert RegistryInvalidStake(params.minAttestorStake);
        if (params.gridEventHorizon == 0 || params.gridEventHorizon > MAX_GRID_EVENT_HORIZON) {
            revert RegistryInvalidHorizon(params.gridEventHorizon, MAX_GRID_EVENT_HORIZON);
        }
        if (params.disputeDeadline == 0 || params.disputeDeadline > MAX_DISPUTE_DEADLINE) {
            revert RegistryInvalidDisputeDeadline(params.disputeDeadline, MAX_DISPUTE_DEADLINE);
        }
        if (params.challengeWindow == 0) revert RegistryInvalidEpochLength(params.challengeWindow);
        if (params.reportDeadline == 0) revert RegistryInvalidEpochLength(params.reportDeadline);
        _params = params;
        emit ProtocolParamsSet(params);
        if (metricsOracle != address(0)) _pushOracleParams();
    }

    /// @dev The oracle keeps what its report path reads in one slot of its own (no call here per report).
    function _pushOracleParams() private {
        ProtocolParams storage p = _params;
        IMetricsOracle(metricsOracle)
            .onParamsSet(
                OracleParams({
                reportDeadline: p.reportDeadline,
                challengeWindow: p.challengeWindow,
                // checked against uint128 when the parameters were set
                minAttestorStake: uint128(p.minAttestorStake),
                disputeDeadline: p.disputeDeadline
            })
            );
    }

    // ---------------------------------------------------------------- operator

    /// @inheritdoc ICapacityRegistry
    function registerAsset(AssetParams calldata p) external returns (uint256 assetId) {
        address market = leaseMarket;
        if (market == address(0)) revert RegistryNotWired();
        _validate(p);

        assetId = ++_assetCount;
        uint64 genesis = uint64(block.timestamp);
        address shares = sharesFactory.deploy(
            CapacityShares.Init({
                name: p.sharesName,
                symbol: p.sharesSymbol,
                assetId: assetId,
                market: ILeaseMarket(market),
                operator: msg.sender,
                stablecoin: _stablecoin,
                blocklist: blocklist(),
                restricted: p.restrictedTransfers,
                totalShares: p.totalShares,
                investors: p.investors,
                investorShares: p.investorShares
            })
        );

        _terms[assetId] = AssetTerms({
            operator: msg.sender,
            genesis: genesis,
            epochLength: p.epochLength,
            shares: shares,
            gpuCount: p.gpuCount,
            maxWattsPerGpu: p.maxWattsPerGpu,
            protocolFeeBps: _params.protocolFeeBps,
            operatorFeeBps: p.operatorFeeBps,
            slaTargetBps: p.slaTargetBps,
            faultTolerance: p.faultTolerance,
            attestorCount: uint8(p.attestors.length),
            status: AssetStatus.Active,
            curtailmentCapHours: p.curtailmentCapHours
        });
        _curves[assetId] = p.curve;
        info[assetId] = AssetInfo({siteId: p.siteId, gpuClass: p.gpuClass});
        ILeaseMarket(market).onAssetRegistered(assetId, shares);
        IMetricsOracle(metricsOracle)
            .onAssetRegistered(
                assetId,
                AttestationConfig({
                genesis: genesis,
                epochLength: p.epochLength,
                // uint32 x uint32 (<= 10,000) x uint32 / 3600 < 2^64
                maxGpuEnergyWh: uint64(uint256(p.gpuCount) * p.maxWattsPerGpu * p.epochLength / 3600),
                attestorCount: uint8(p.attestors.length),
                faultTolerance: p.faultTolerance
            }),
                p.attestors
            );

        emit AssetRegistered(
            assetId, msg.sender, shares, p.siteId, p.gpuClass, p.gpuCount, p.maxWattsPerGpu, p.epochLength, genesis
        );
        emit AttestorsSet(assetId, p.attestors, p.faultTolerance);
        _depositBond(assetId, p.bond);
    }

    function _validate(AssetParams calldata p) private view {
        if (p.gpuCount == 0) revert RegistryInvalidGpuCount(p.gpuCount);
        if (p.maxWattsPerGpu == 0 || p.maxWattsPerGpu > 10_000) revert RegistryInvalidMaxWatts(p.maxWattsPerGpu);
        if (p.epochLength < MIN_EPOCH_LENGTH || p.epochLength > MAX_EPOCH_LENGTH) {
            revert RegistryInvalidEpochLength(p.epochLength);
        }
        uint256 n = p.attestors.length;
        if (n > MAX_ATTESTORS) revert RegistryTooManyAttestors(n, MAX_ATTESTORS);
        if (!AttestationLib.isValidFaultModel(n, p.faultTolerance)) {
            revert RegistryInvalidFaultModel(p.faultTolerance, n, AttestationLib.minAttestors(p.faultTolerance));
        }
        for (uint256 i; i < n; ++i) {
            address a = p.attestors[i];
            if (a == address(0)) revert RegistryInvalidAttestor(address(0));
            for (uint256 j; j < i; ++j) {
                if (p.attestors[j] == a) revert RegistryDuplicateAttestor(a);
            }
        }
        if (p.operatorFeeBps > MAX_OPERATOR_FEE_BPS) revert RegistryFeeTooHigh(p.operatorFeeBps, MAX_OPERATOR_FEE_BPS);
        if (p.slaTargetBps > BPS) revert RegistryInvalidBps(p.slaTargetBps);
        PricingCurve calldata c = p.curve;
        if (c.basePricePerGpuHour == 0 || c.kinkBps == 0 || c.kinkBps > BPS) {
            revert RegistryInvalidCurve(c.basePricePerGpuHour, c.kinkBps);
        }
        if (c.interruptibleDiscountBps >= BPS) revert RegistryInvalidBps(c.interruptibleDiscountBps);
        if (p.curtailmentCapHours > MAX_CURTAILMENT_CAP_HOURS) {
            revert RegistryInvalidCurtailmentCap(p.curtailmentCapHours, MAX_CURTAILMENT_CAP_HOURS);
        }
        if (p.bond < _params.minBond) revert RegistryBondTooSmall(p.bond, _params.minBond);
        if (p.investors.length != p.investorShares.length) {
            revert RegistryLengthMismatch(p.investors.length, p.investorShares.length);
        }
        if (p.investors.length > MAX_INVESTORS) revert RegistryTooManyInvestors(p.investors.length, MAX_INVESTORS);
        uint256 allocated = 0;
        for (uint256 i; i < p.investorShares.length; ++i) {
            allocated += p.investorShares[i];
        }
        if (p.totalShares < MIN_TOTAL_SHARES || allocated > p.totalShares) {
            revert RegistryInvalidShares(p.totalShares, allocated);
        }
    }

    /// @inheritdoc ICapacityRegistry
    function depositBond(uint256 assetId, uint256 amount) external {
        _requireAsset(assetId);
        _depositBond(assetId, amount);
    }

    function _depositBond(uint256 assetId, uint256 amount) private {
        StablecoinLib.pullExact(_stablecoin, msg.sender, amount);
        uint256 bond = _bonds[assetId] + amount;
        _bonds[assetId] = bond;
        emit BondDeposited(assetId, msg.sender, amount, bond);
    }

    /// @inheritdoc ICapacityRegistry
    function withdrawBond(uint256 assetId, address to) external {
        AssetTerms storage t = _requireAsset(assetId);
        if (msg.sender != t.operator) revert RegistryNotOperator(assetId, msg.sender);
        if (to != msg.sender) StablecoinLib.requireNotFrozen(blocklist(), msg.sender); // paid to itself, its value stays frozen
        uint32 committed = ILeaseMarket(leaseMarket).ledgerOf(assetId).committedGpus;
        if (t.status != AssetStatus.Retired || committed != 0) revert RegistryBondLocked(assetId, t.status, committed);
        uint256 amount = _bonds[assetId];
        _bonds[assetId] = 0;
        emit BondWithdrawn(assetId, to, amount);
        _stablecoin.safeTransfer(to, amount);
    }

    /// @inheritdoc ICapacityRegistry
    function setStatus(uint256 assetId, AssetStatus status) external {
        AssetTerms storage t = _requireAsset(assetId);
        AssetStatus from = t.status;
        bool isOperator = msg.sender == t.operator;
        bool isPauser = hasRole(PAUSER_ROLE, msg.sender);
        if (!isOperator && !isPauser) revert RegistryNotOperator(assetId, msg.sender);
        bool allowed = from != AssetStatus.Retired
            && ((status == AssetStatus.Paused && (from == AssetStatus.Active || isPauser))
                || (status == AssetStatus.Active && from == AssetStatus.Paused)
                || (status == AssetStatus.Retired && isOperator));
        if (!allowed) revert RegistryInvalidStatusChange(assetId, from, status);
        // A pause the pauser role set is lifted by the pauser role only (the operator may still retire).
        if (status == AssetStatus.Active && !isPauser && pausedByPauser[assetId]) {
            revert RegistryPausedByPauser(assetId);
        }
        if (status != AssetStatus.Retired) pausedByPauser[assetId] = isPauser && status == AssetStatus.Paused;
        t.status = status;
        emit AssetStatusChanged(assetId, from, status);
    }

    // ---------------------------------------------------------------- protocol

    /// @inheritdoc ICapacityRegistry
    function slashBond(uint256 assetId, uint256 amount, address to) external returns (uint256 slashed) {
        if (msg.sender != leaseMarket && msg.sender != metricsOracle) revert RegistryUnauthorizedSlasher(msg.sender);
        uint256 bond = _bonds[assetId];
        slashed = amount < bond ? amount : bond;
        if (slashed == 0) return 0;
        // slashed <= bond
        unchecked {
            bond -= slashed;
        }
        _bonds[assetId] = bond;
        _slashed[to] += slashed;
        emit BondSlashed(assetId, to, amount, slashed, bond);
    }

    /// @inheritdoc ICapacityRegistry
    function release(address to, uint256 amount) external {
        uint256 held = _slashed[msg.sender];
        if (amount > held) revert RegistryReleaseExceedsSlashed(msg.sender, amount, held);
        // amount <= held
        unchecked {
            _slashed[msg.sender] = held - amount;
        }
        emit SlashedReleased(msg.sender, to, amount);
        _stablecoin.safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- views

    function terms(uint256 assetId) external view returns (AssetTerms memory) {
        return _terms[assetId];
    }

    function curve(uint256 assetId) external view returns (PricingCurve memory) {
        return _curves[assetId];
    }

    function bondOf(uint256 assetId) external view returns (uint256) {
        return _bonds[assetId];
    }

    /// @inheritdoc ICapacityRegistry
    function slashedFor(address recipient) external view returns (uint256) {
        return _slashed[recipient];
    }

    /// @inheritdoc ICapacityRegistry
    function blocklist() public view returns (Blocklist memory) {
        return Blocklist({target: _blocklistTarget, selector: _blocklistSelector});
    }

    /// @inheritdoc ICapacityRegistry
    function treasury() external view returns (address) {
        return _params.treasury;
    }

    /// @inheritdoc ICapacityRegistry
    function isFrozen(address account) external view returns (bool) {
        return StablecoinLib.isFrozen(blocklist(), account);
    }

    /// @inheritdoc ICapacityRegistry
    function wholeCoin() external view returns (uint256) {
        return _wholeCoin;
    }

    /// @inheritdoc ICapacityRegistry
    function attestors(uint256 assetId) external view returns (address[] memory) {
        return IMetricsOracle(metricsOracle).attestors(assetId);
    }

    function protocolParams() external view returns (ProtocolParams memory) {
        return _params;
    }

    /// @inheritdoc ICapacityRegistry
    function reportTimes() external view returns (uint32 reportDeadline, uint32 challengeWindow) {
        return (_params.reportDeadline, _params.challengeWindow);
    }

    function stablecoin() external view returns (address) {
        return address(_stablecoin);
    }

    function assetCount() external view returns (uint256) {
        return _assetCount;
    }

    function currentEpoch(uint256 assetId) external view returns (uint64) {
        AssetTerms storage t = _requireAsset(assetId);
        return uint64((block.timestamp - t.genesis) / t.epochLength);
    }

    function epochEnd(uint256 assetId, uint64 epoch) external view returns (uint64) {
        AssetTerms storage t = _requireAsset(assetId);
        return t.genesis + (epoch + 1) * t.epochLength;
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ICapacityRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    function _requireAsset(uint256 assetId) private view returns (AssetTerms storage t) {
        t = _terms[assetId];
        if (t.status == AssetStatus.None) revert RegistryUnknownAsset(assetId);
    }
}
