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
/// @dev multiplier(u) = 1 + slope1 x u / kink up to the kink, then 1 + slope1 + slope2 x (u - kink) / (1 - kink)
///      above it (PricingLib; u is the utilization once the new lease is counted), all in bps.
/// @param basePricePerGpuHour stablecoin base units per GPU-hour at zero utilization (non-zero)
/// @param kinkBps utilization where the steep slope starts, bps (1 to 10,000)
/// @param slope1Bps multiplier increase across [0, kink], in bps of base
/// @param slope2Bps multiplier increase across [kink, 100 %], in bps of base
/// @param interruptibleDiscountBps discount for interruptible leases, bps of the price (below 10,000)
struct PricingCurve {
    uint128 basePricePerGpuHour;
    uint16 kinkBps;
    uint32 slope1Bps;
    uint32 slope2Bps;
    uint16 interruptibleDiscountBps;
}

/// @notice The terms that settlement, pricing and the oracle read on every call (three storage slots).
/// @param operator the account that registered the asset: it runs it, is paid the operator fee and owns the bond
/// @param genesis timestamp where epoch 0 starts (the registration's block timestamp)
/// @param epochLength seconds
/// @param shares the asset's CapacityShares token
/// @param gpuCount GPUs the asset leases out
/// @param maxWattsPerGpu the most one GPU draws, watts
/// @param protocolFeeBps snapshot of the protocol fee at registration, bps of delivered value
/// @param operatorFeeBps the operator's fee, bps of delivered value
/// @param slaTargetBps uptime below this pays firm lessees a service credit from the bond
/// @param faultTolerance f: attestors that may be faulty (a report needs 2f+1 observations, f+1 co-signers)
/// @param attestorCount n >= 3f + 1
/// @param status the asset's lifecycle state
/// @param curtailmentCapHours interruptible leases: grid curtailment allowed per 30-day period
struct AssetTerms {
    address operator;
    uint64 genesis;
    uint32 epochLength;
    address shares;
    uint32 gpuCount;
    uint32 maxWattsPerGpu;
    uint16 protocolFeeBps;
    uint16 operatorFeeBps;
    uint16 slaTargetBps;
    uint8 faultTolerance;
    uint8 attestorCount;
    AssetStatus status;
    uint16 curtailmentCapHours;
}

/// @notice What an operator supplies to register a GPU cluster.
/// @param siteId the operator's identifier of the site (recorded, not interpreted)
/// @param gpuClass e.g. "H100-SXM"
/// @param gpuCount GPUs the asset leases out (at least one)
/// @param maxWattsPerGpu the most one GPU draws, watts (1 to 10,000): bounds the GPU energy an observation may report
/// @param epochLength seconds (60 to 30 days)
/// @param operatorFeeBps the operator's fee, bps of delivered value (at most 5,000)
/// @param slaTargetBps uptime below which firm lessees are credited from the bond, bps (at most 10,000)
/// @param faultTolerance f faulty attestors tolerated; needs at least 3f + 1 attestors
/// @param attestors the asset's attestors: distinct, non-zero, at most 32 (their order gives their 1-based index)
/// @param curve the pricing curve of a GPU-hour
/// @param bond stablecoin pulled from the operator (base units, at least the protocol's minimum bond)
/// @param sharesName the CapacityShares token's name
/// @param sharesSymbol the CapacityShares token's symbol
/// @param totalShares fixed supply, 18 decimals, at least 1e18 (one whole share)
/// @param investors initial allocations; the rest goes to the operator (to sell or keep); at most 64
/// @param investorShares each investor's shares (18 decimals), in the order of `investors`
/// @param restrictedTransfers holders must be on the asset's allowlist
/// @param curtailmentCapHours hours of grid curtailment an interruptible lease accepts per 30-day period (from
///        genesis), at most 720. Fixed for the asset's life, so every lease keeps the cap it opened with;
///        curtailment past it is paid back to interruptible lessees again from the bond, like an SLA credit.
struct AssetParams {
    bytes32 siteId;
    bytes32 gpuClass;
    uint32 gpuCount;
    uint32 maxWattsPerGpu;
    uint32 epochLength;
    uint16 operatorFeeBps;
    uint16 slaTargetBps;
    uint8 faultTolerance;
    address[] attestors;
    PricingCurve curve;
    uint256 bond;
    string sharesName;
    string sharesSymbol;
    uint256 totalShares;
    address[] investors;
    uint256[] investorShares;
    bool restrictedTransfers;
    uint16 curtailmentCapHours;
}

/// @notice Protocol-wide parameters set by governance.
/// @param treasury receives the protocol fees, swept surpluses and the treasury's part of slashes (non-zero)
/// @param protocolFeeBps the protocol's fee, bps of delivered value (at most 2,000); assets keep the fee in
///        force when they registered
/// @param minBond the least bond an asset registers with, stablecoin base units
/// @param challengeBond what a challenger posts to dispute a report, stablecoin base units
/// @param challengeWindow seconds after a report is accepted during which it can be challenged (non-zero)
/// @param reportDeadline seconds after an epoch ends during which its report can be submitted (non-zero)
/// @param fraudSlashBps share of the operator bond slashed on proven fraud
/// @param challengerRewardBps share of the slashed amount paid to the successful challenger (< 100 %)
/// @param attestorSlashBps share of a faulty attestor's stake slashed
/// @param minAttestorStake stake a co-signer needs for its signature to count (at most 2^128 - 1)
/// @param gridEventHorizon how far ahead of now a declared grid event may start, seconds (1 to 7 days)
/// @param disputeDeadline seconds the arbiter has to rule on a challenge before anyone may expire it (1 to 30 days)
struct ProtocolParams {
    address treasury;
    uint16 protocolFeeBps;
    uint256 minBond;
    uint256 challengeBond;
    uint32 challengeWindow;
    uint32 reportDeadline;
    uint16 fraudSlashBps;
    uint16 challengerRewardBps;
    uint16 attestorSlashBps;
    uint256 minAttestorStake;
    uint32 gridEventHorizon;
    uint32 disputeDeadline;
}

/// @title CapacityRegistry
/// @notice One record per GPU cluster (asset): specs, attestors, fees, pricing curve, SLA, status, and the
///         operator's stablecoin bond, which SLA credits and proven fraud draw on. Holds governance roles.
interface ICapacityRegistry is IStablecoinGuard {
    // ---------------------------------------------------------------- errors
    /// @notice Raised when an asset is registered with zero GPUs.
    /// @param gpuCount the GPU count given
    error RegistryInvalidGpuCount(uint32 gpuCount);
    /// @notice Raised when an asset is registered with an epoch length outside 60 seconds to 30 days, and
    ///         (reused) when protocol parameters set a zero challenge window or a zero report deadline.
    /// @param epochLength the epoch length given (seconds), or the zero challenge window or report deadline
    error RegistryInvalidEpochLength(uint32 epochLength);
    /// @notice Raised when an asset is registered with a maximum power per GPU of zero or above 10,000 W.
    /// @param maxWattsPerGpu the maximum power per GPU given, watts
    error RegistryInvalidMaxWatts(uint32 maxWattsPerGpu);
    /// @notice n attestors cannot tolerate f faulty ones: n must be at least 3f + 1 (and at most 32). Raised at
    ///         registration.
    /// @param faultTolerance f, the faulty attestors to tolerate
    /// @param attestors n, the attestors given
    /// @param minAttestors 3f + 1, the fewest attestors that tolerate f
    error RegistryInvalidFaultModel(uint8 faultTolerance, uint256 attestors, uint256 minAttestors);
    /// @notice Raised when an asset is registered with the zero address among its attestors.
    /// @param attestor the invalid attestor (the zero address)
    error RegistryInvalidAttestor(address attestor);
    /// @notice Raised when an asset is registered with the same attestor twice.
    /// @param attestor the repeated attestor
    error RegistryDuplicateAttestor(address attestor);
    /// @notice Raised when an asset is registered with more than 32 attestors (the oracle's bitmaps hold 32).
    /// @param count the attestors given
    /// @param max the most allowed (32)
    error RegistryTooManyAttestors(uint256 count, uint256 max);
    /// @notice Raised when an asset is registered with more than 64 initial investors.
    /// @param count the investors given
    /// @param max the most allowed (64)
    error RegistryTooManyInvestors(uint256 count, uint256 max);
    /// @notice Raised when protocol parameters set a protocol fee above 2,000 bps, or an asset is registered
    ///         with an operator fee above 5,000 bps.
    /// @param feeBps the fee given, bps
    /// @param maxBps the most allowed, bps
    error RegistryFeeTooHigh(uint256 feeBps, uint256 maxBps);
    /// @notice Raised for a share out of range: protocol parameters with a fraud or attestor slash above
    ///         10,000 bps or a challenger reward of 10,000 bps or more; an asset registered with an SLA target
    ///         above 10,000 bps or an interruptible discount of 10,000 bps or more.
    /// @param valueBps the value given, bps
    error RegistryInvalidBps(uint256 valueBps);
    /// @notice A minimum attestor stake that does not fit the oracle's 128-bit record. Raised when protocol
    ///         parameters set it above 2^128 - 1.
    /// @param minAttestorStake the minimum stake given, stablecoin base units
    error RegistryInvalidStake(uint256 minAttestorStake);
    /// @notice A grid event horizon of zero or beyond the maximum. Raised when protocol parameters are set.
    /// @param horizon the horizon given, seconds
    /// @param max the longest allowed, seconds (7 days)
    error RegistryInvalidHorizon(uint32 horizon, uint32 max);
    /// @notice A dispute deadline of zero or beyond the maximum. Raised when protocol parameters are set.
    /// @param deadline the deadline given, seconds
    /// @param max the longest allowed, seconds (30 days)
    error RegistryInvalidDisputeDeadline(uint32 deadline, uint32 max);
    /// @notice Raised when an asset is registered with a curtailment cap above 720 hours per 30 days.
    /// @param hoursPer30Days the cap given, hours per 30-day period
    /// @param max the most allowed (720, every hour of the period)
    error RegistryInvalidCurtailmentCap(uint16 hoursPer30Days, uint16 max);
    /// @notice Raised when an asset is registered with a pricing curve whose base price is zero or whose kink
    ///         is zero or above 10,000 bps.
    /// @param basePrice the base price given, stablecoin base units per GPU-hour
    /// @param kinkBps the kink given, bps of utilization
    error RegistryInvalidCurve(uint128 basePrice, uint16 kinkBps);
    /// @notice Raised when an asset is registered with a bond below the protocol's minimum.
    /// @param bond the bond given, stablecoin base units
    /// @param minBond the minimum bond, stablecoin base units
    error RegistryBondTooSmall(uint256 bond, uint256 minBond);
    /// @notice Raised when an asset is registered with fewer than one whole share (1e18) in total, or with
    ///         investor allocations that add up to more than the total.
    /// @param totalShares the total supply given (18 decimals)
    /// @param allocated the sum of the investors' allocations (18 decimals)
    error RegistryInvalidShares(uint256 totalShares, uint256 allocated);
    /// @notice Raised when an asset is registered with a different number of investors and allocations.
    /// @param investors the number of investors
    /// @param amounts the number of allocations
    error RegistryLengthMismatch(uint256 investors, uint256 amounts);
    /// @notice Raised when a bond deposit or withdrawal, a status change, or an epoch view names an asset id
    ///         that was never registered.
    /// @param assetId the asset id given
    error RegistryUnknownAsset(uint256 assetId);
    /// @notice Raised when anyone but the operator withdraws the bond, or anyone but the operator or the
    ///         pauser role changes the asset's status.
    /// @param assetId the asset
    /// @param caller the caller
    error RegistryNotOperator(uint256 assetId, address caller);
    /// @notice Raised for a status change the caller may not make: nothing leaves Retired; the operator may
    ///         pause an active asset, resume a paused one and retire; the pauser role may pause (also an asset
    ///         already paused) and resume, but not retire.
    /// @param assetId the asset
    /// @param from the asset's status
    /// @param to the status asked for
    error RegistryInvalidStatusChange(uint256 assetId, AssetStatus from, AssetStatus to);
    /// @notice Raised when the operator withdraws the bond before the asset is retired and every lease has
    ///         settled (no GPUs committed).
    /// @param assetId the asset
    /// @param status the asset's status
    /// @param committedGpus GPUs still committed to leases in the LeaseMarket
    error RegistryBondLocked(uint256 assetId, AssetStatus status, uint32 committedGpus);
    /// @notice Raised when the admin wires the LeaseMarket and MetricsOracle a second time.
    error RegistryAlreadyWired();
    /// @notice Raised when an asset is registered before the LeaseMarket and MetricsOracle are wired.
    error RegistryNotWired();
    /// @notice Raised for a zero address where one is required: the admin, stablecoin or shares factory at
    ///         deployment, the LeaseMarket or MetricsOracle when wiring, the treasury in protocol parameters.
    error RegistryInvalidAddress();
    /// @notice Raised when anyone but the LeaseMarket or the MetricsOracle slashes a bond.
    /// @param caller the caller
    error RegistryUnauthorizedSlasher(address caller);
    /// @notice The pauser role paused the asset: only the pauser role may make it active again. Raised when the
    ///         operator tries to resume it.
    /// @param assetId the asset
    error RegistryPausedByPauser(uint256 assetId);
    /// @notice A protocol contract asked for more slashed bond than is held for it.
    /// @param recipient the caller, for whom the slashed bond is held
    /// @param requested the amount asked for, stablecoin base units
    /// @param held the slashed bond held for it, stablecoin base units
    error RegistryReleaseExceedsSlashed(address recipient, uint256 requested, uint256 held);

    // ---------------------------------------------------------------- events
    /// @notice Emitted when an operator registers an asset (with AttestorsSet and BondDeposited).
    /// @param assetId the new asset's id (ids count up from 1)
    /// @param operator the operator (the caller)
    /// @param shares the asset's CapacityShares token, deployed with it
    /// @param siteId the operator's identifier of the site
    /// @param gpuClass the GPU class, e.g. "H100-SXM"
    /// @param gpuCount GPUs the asset leases out
    /// @param maxWattsPerGpu the most one GPU draws, watts
    /// @param epochLength seconds
    /// @param genesis timestamp where epoch 0 starts
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
    /// @notice Emitted when an asset is registered, with the attestors and fault model the MetricsOracle holds.
    /// @param assetId the asset
    /// @param attestors the attestors, in index order (attestor i + 1 is `attestors[i]`)
    /// @param faultTolerance f, the faulty attestors tolerated
    event AttestorsSet(uint256 indexed assetId, address[] attestors, uint8 faultTolerance);
    /// @notice Emitted on every accepted status change (`from` equals `to` when the pauser role pauses a paused
    ///         asset, taking over the pause).
    /// @param assetId the asset
    /// @param from the previous status
    /// @param to the new status
    event AssetStatusChanged(uint256 indexed assetId, AssetStatus from, AssetStatus to);
    /// @notice Emitted when stablecoin is added to an asset's bond: at registration and by any top-up.
    /// @param assetId the asset
    /// @param from who paid it (the caller)
    /// @param amount the amount added, stablecoin base units
    /// @param bond the bond after it, stablecoin base units
    event BondDeposited(uint256 indexed assetId, address indexed from, uint256 amount, uint256 bond);
    /// @notice Emitted when the LeaseMarket (service and curtailment credits) or the MetricsOracle (fraud)
    ///         slashes an asset's bond; not when nothing could be taken.
    /// @param assetId the asset
    /// @param to the protocol contract the slashed amount is now held for (see {release})
    /// @param requested the amount asked for, stablecoin base units
    /// @param slashed the amount taken (at most the bond), stablecoin base units
    /// @param bond the bond left, stablecoin base units
    event BondSlashed(uint256 indexed assetId, address indexed to, uint256 requested, uint256 slashed, uint256 bond);
    /// @notice Emitted when the operator withdraws a retired asset's bond.
    /// @param assetId the asset
    /// @param to the address paid
    /// @param amount the bond paid, stablecoin base units
    event BondWithdrawn(uint256 indexed assetId, address indexed to, uint256 amount);
    /// @notice Emitted when the protocol parameters are set: at deployment and on each change by governance.
    /// @param params the new parameters
    event ProtocolParamsSet(ProtocolParams params);
    /// @notice Emitted once, when the admin wires the LeaseMarket and MetricsOracle.
    /// @param leaseMarket the LeaseMarket
    /// @param metricsOracle the MetricsOracle
    event ProtocolContractsWired(address leaseMarket, address metricsOracle);
    /// @notice Emitted when a protocol contract draws slashed bond held for it.
    /// @param recipient the protocol contract for which it was held (the caller)
    /// @param to the address paid
    /// @param amount the amount paid, stablecoin base units
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
    /// @notice The asset's terms (all zero, status None, for an unknown id).
    function terms(uint256 assetId) external view returns (AssetTerms memory);
    /// @notice The asset's pricing curve.
    function curve(uint256 assetId) external view returns (PricingCurve memory);
    /// @notice The asset's bond, stablecoin base units.
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
    /// @notice The protocol parameters in force.
    function protocolParams() external view returns (ProtocolParams memory);
    /// @notice The two report timings of {protocolParams} (one storage slot): what the oracle reads on every
    ///         report and every settlement, without copying the whole parameter set.
    function reportTimes() external view returns (uint32 reportDeadline, uint32 challengeWindow);
    /// @notice The deployment's stablecoin.
    function stablecoin() external view returns (address);
    /// @notice The LeaseMarket (zero until wired).
    function leaseMarket() external view returns (address);
    /// @notice The MetricsOracle (zero until wired).
    function metricsOracle() external view returns (address);
    /// @notice Assets registered so far (the latest asset id).
    function assetCount() external view returns (uint256);
    /// @notice The asset's epoch now, by the clock.
    function currentEpoch(uint256 assetId) external view returns (uint64);
    /// @notice When `epoch` of the asset ends (unix seconds).
    function epochEnd(uint256 assetId, uint64 epoch) external view returns (uint64);
}
