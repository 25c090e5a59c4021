// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Blocklist, IStablecoinGuard} from "./IStablecoinGuard.sol";

/// @notice Lifecycle of a registered GPU cluster.
/// @dev Active: leases may open. Paused: no new leases (existing ones settle). Retired: permanent, no new leases.
enum AssetStatus {
    None,
    Active,
    Paused,
    Retired
}

/// @notice Price of one GPU-hour as a function of utilization: a kinked curve, like a lending rate model.
/// @dev multiplier(u) = 1 + u*slope1 (u <= kink), then + (u-kink)*slope2 above the kink, all in bps.
struct PricingCurve {
    uint128 basePricePerGpuHour; // stablecoin base units per GPU-hour at zero utilization
    uint16 kinkBps; // utilization where the steep slope starts
    uint32 slope1Bps; // multiplier increase across [0, kink], in bps of base
    uint32 slope2Bps; // multiplier increase across [kink, 100 %], in bps of base
    uint16 interruptibleDiscountBps; // discount for interruptible leases
}

/// @notice The terms that settlement, pricing and the oracle read on every call (three storage slots).
struct AssetTerms {
    address operator;
    uint64 genesis; // timestamp where epoch 0 starts
    uint32 epochLength; // seconds
    address shares;
    uint32 gpuCount;
    uint32 maxWattsPerGpu;
    uint16 protocolFeeBps; // snapshot of the protocol fee at registration
    uint16 operatorFeeBps;
    uint16 slaTargetBps; // uptime below this pays firm lessees a service credit from the bond
    uint8 faultTolerance; // f: attestors that may be faulty (a report needs 2f+1 observations, f+1 co-signers)
    uint8 attestorCount; // n >= 3f + 1
    AssetStatus status;
    uint16 curtailmentCapHours; // interruptible leases: grid curtailment allowed per 30-day period
}

/// @notice What an operator supplies to register a GPU cluster.
struct AssetParams {
    bytes32 siteId;
    bytes32 gpuClass; // e.g. "H100-SXM"
    uint32 gpuCount;
    uint32 maxWattsPerGpu;
    uint32 epochLength;
    uint16 operatorFeeBps;
    uint16 slaTargetBps;
    uint8 faultTolerance; // f faulty attestors tolerated; needs at least 3f + 1 attestors
    address[] attestors;
    PricingCurve curve;
    uint256 bond; // stablecoin pulled from the operator
    string sharesName;
    string sharesSymbol;
    uint256 totalShares; // fixed supply, 18 decimals, at least 1e18 (one whole share)
    address[] investors; // initial allocations; the rest goes to the operator (to sell or keep)
    uint256[] investorShares;
    bool restrictedTransfers; // holders must be on the asset's allowlist
    /// @dev Hours of grid curtailment an interruptible lease accepts per 30-day period (from genesis), at most
    ///      720. Fixed for the asset's life, so every lease keeps the cap it opened with; curtailment past it
    ///      is paid back to interruptible lessees again from the bond, like an SLA credit.
    uint16 curtailmentCapHours;
}

/// @notice Protocol-wide parameters set by governance.
struct ProtocolParams {
    address treasury;
    uint16 protocolFeeBps;
    uint256 minBond;
    uint256 challengeBond;
    uint32 challengeWindow; // seconds after a report is accepted during which it can be challenged
    uint32 reportDeadline; // seconds after an epoch ends during which its report can be submitted
    uint16 fraudSlashBps; // share of the operator bond slashed on proven fraud
    uint16 challengerRewardBps; // share of the slashed amount paid to the successful challenger (< 100 %)
    uint16 attestorSlashBps; // share of a faulty attestor's stake slashed
    uint256 minAttestorStake; // stake a co-signer needs for its signature to count (at most 2^128 - 1)
    uint32 gridEventHorizon; // how far ahead of now a declared grid event may start, seconds
    uint32 disputeDeadline; // seconds the arbiter has to rule on a challenge before anyone may expire it
}

/// @title CapacityRegistry
/// @notice One record per GPU cluster (asset): specs, attestors, fees, pricing curve, SLA, status, and the
///         operator's stablecoin bond, which SLA credits and proven fraud draw on. Holds governance roles.
interface ICapacityRegistry is IStablecoinGuard {
    // ---------------------------------------------------------------- errors
    error RegistryInvalidGpuCount(uint32 gpuCount);
    error RegistryInvalidEpochLength(uint32 epochLength);
    error RegistryInvalidMaxWatts(uint32 maxWattsPerGpu);
    /// @notice n attestors cannot tolerate f faulty ones: n must be at least 3f + 1 (and at most 32).
    error RegistryInvalidFaultModel(uint8 faultTolerance, uint256 attestors, uint256 minAttestors);
    error RegistryInvalidAttestor(address attestor);
    error RegistryDuplicateAttestor(address attestor);
    error RegistryTooManyAttestors(uint256 count, uint256 max);
    error RegistryTooManyInvestors(uint256 count, uint256 max);
    error RegistryFeeTooHigh(uint256 feeBps, uint256 maxBps);
    error RegistryInvalidBps(uint256 valueBps);
    /// @notice A minimum attestor stake that does not fit the oracle's 128-bit record.
    error RegistryInvalidStake(uint256 minAttestorStake);
    /// @notice A grid event horizon of zero or beyond the maximum.
    error RegistryInvalidHorizon(uint32 horizon, uint32 max);
    /// @notice A dispute deadline of zero or beyond the maximum.
    error RegistryInvalidDisputeDeadline(uint32 deadline, uint32 max);
    error RegistryInvalidCurtailmentCap(uint16 hoursPer30Days, uint16 max);
    error RegistryInvalidCurve(uint128 basePrice, uint16 kinkBps);
    error RegistryBondTooSmall(uint256 bond, uint256 minBond);
    error RegistryInvalidShares(uint256 totalShares, uint256 allocated);
    error RegistryLengthMismatch(uint256 investors, uint256 amounts);
    error RegistryUnknownAsset(uint256 assetId);
    error RegistryNotOperator(uint256 assetId, address caller);
    error RegistryInvalidStatusChange(uint256 assetId, AssetStatus from, AssetStatus to);
    error RegistryBondLocked(uint256 assetId, AssetStatus status, uint32 committedGpus);
    error RegistryAlreadyWired();
    error RegistryNotWired();
    error RegistryInvalidAddress();
    error RegistryUnauthorizedSlasher(address caller);
    /// @notice The pauser role paused the asset: only the pauser role may make it active again.
    error RegistryPausedByPauser(uint256 assetId);
    /// @notice A protocol contract asked for more slashed bond than is held for it.
    error RegistryReleaseExceedsSlashed(address recipient, uint256 requested, uint256 held);

    // ---------------------------------------------------------------- events
    event AssetRegistered(
        uint256 indexed assetId,
        address indexed operator,
        address shares,
        bytes32 siteId,
        bytes32 gpuClass,
        uint32 gpuCount,
        uint32 maxWattsPerGpu,
        uint32 epochLength,
        uint64 genesis
    );
    event AttestorsSet(uint256 indexed assetId, address[] attestors, uint8 faultTolerance);
    event AssetStatusChanged(uint256 indexed assetId, AssetStatus from, AssetStatus to);
    event BondDeposited(uint256 indexed assetId, address indexed from, uint256 amount, uint256 bond);
    event BondSlashed(uint256 indexed assetId, address indexed to, uint256 requested, uint256 slashed, uint256 bond);
    event BondWithdrawn(uint256 indexed assetId, address indexed to, uint256 amount);
    event ProtocolParamsSet(ProtocolParams params);
    event ProtocolContractsWired(address leaseMarket, address metricsOracle);
    event SlashedReleased(address indexed recipient, address indexed to, uint256 amount);

    // ---------------------------------------------------------------- operator
    /// @notice Registers a GPU cluster, deploys its CapacityShares and pulls the bond from the caller.
    /// @dev The caller becomes the operator. Epoch 0 starts at this block's timestamp.
    function registerAsset(AssetParams calldata params) external returns (uint256 assetId);

    /// @notice Adds stablecoin to an asset's bond (anyone may top it up).
    function depositBond(uint256 assetId, uint256 amount) external;

    /// @notice Returns a retired asset's bond to its operator once every lease has ended and settled.
    function withdrawBond(uint256 assetId, address to) external;

    /// @notice Operator pauses/resumes its asset or retires it for good. PAUSER_ROLE may pause and resume
    ///         any asset; an asset the pauser role paused is resumed by the pauser role only.
    function setStatus(uint256 assetId, AssetStatus status) external;

    // ---------------------------------------------------------------- protocol
    /// @notice Takes up to `amount` from the bond and holds it here for `to`; callable by the LeaseMarket
    ///         (SLA credits) and the MetricsOracle (fraud). Slashes what is there when the bond is short;
    ///         never reverts for that, and moves no tokens (settlement and disputes never wait on the token:
    ///         a pause or a frozen protocol contract cannot stop them). `to` draws it with {release}.
    /// @return slashed the amount actually taken
    function slashBond(uint256 assetId, uint256 amount, address to) external returns (uint256 slashed);

    /// @notice Pays `amount` of the slashed bond held for the caller to `to` (the LeaseMarket pays a
    ///         lessee's credits straight from here; the oracle draws its slashes when it pays out).
    function release(address to, uint256 amount) external;

    // ---------------------------------------------------------------- views
    function terms(uint256 assetId) external view returns (AssetTerms memory);
    function curve(uint256 assetId) external view returns (PricingCurve memory);
    function bondOf(uint256 assetId) external view returns (uint256);
    /// @notice Slashed bond held here for `recipient`, not yet released.
    function slashedFor(address recipient) external view returns (uint256);
    /// @notice Where the protocol reads the stablecoin issuer's blocklist.
    function blocklist() external view returns (Blocklist memory);
    /// @notice The protocol treasury (of {protocolParams}), without decoding the whole parameter set.
    function treasury() external view returns (address);
    /// @notice Whether the stablecoin's issuer froze `account` (always false without a blocklist).
    function isFrozen(address account) external view returns (bool);
    /// @notice One whole stablecoin in base units (10 ** decimals); minimums are defined against it.
    function wholeCoin() external view returns (uint256);
    /// @notice Whether the pauser role paused the asset (then only it may resume the asset).
    function pausedByPauser(uint256 assetId) external view returns (bool);
    /// @notice The asset's attestors, as the MetricsOracle holds them.
    function attestors(uint256 assetId) external view returns (address[] memory);
    function protocolParams() external view returns (ProtocolParams memory);
    /// @notice The two report timings of {protocolParams} (one storage slot): what the oracle reads on every
    ///         report and every settlement, without copying the whole parameter set.
    function reportTimes() external view returns (uint32 reportDeadline, uint32 challengeWindow);
    function stablecoin() external view returns (address);
    function leaseMarket() external view returns (address);
    function metricsOracle() external view returns (address);
    function assetCount() external view returns (uint256);
    function currentEpoch(uint256 assetId) external view returns (uint64);
    function epochEnd(uint256 assetId, uint64 epoch) external view returns (uint64);
}
