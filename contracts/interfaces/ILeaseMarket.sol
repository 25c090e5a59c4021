// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC4907} from "./IERC4907.sol";
import {IStablecoinGuard} from "./IStablecoinGuard.sol";

enum LeaseClass {
    Firm, // baseload, SLA-backed, never curtailed
    Interruptible // cheaper, not charged for curtailed time
}

/// @notice A lease position (its ERC-721 token id is the lease id).
/// @dev Two storage slots written at opening: the first packs the identity and term, the second the rate.
/// @param assetId the asset leased
/// @param gpus GPUs leased
/// @param class firm or interruptible
/// @param startEpoch first leased epoch
/// @param endEpoch first epoch no longer leased (equal to `startEpoch` once cancelled)
/// @param ratePerEpoch stablecoin base units owed per fully delivered epoch
/// @param refundPaid undelivered value already paid back (stablecoin base units)
/// @param creditPaid service credits already paid (stablecoin base units)
/// @param closedRefund prepayment of the epochs a close removed: the holder of the lease claims it (stablecoin
///        base units)
struct Lease {
    uint64 assetId;
    uint32 gpus;
    LeaseClass class;
    uint64 startEpoch;
    uint64 endEpoch;
    uint128 ratePerEpoch;
    uint128 refundPaid;
    uint128 creditPaid;
    uint128 closedRefund;
}

/// @notice Per-asset settlement state, updated once per finalized epoch.
/// @dev Two storage slots, written once per finalized epoch.
/// @param nextEpochToFinalize every epoch below it is final
/// @param committedGpus GPUs of leases not yet released (release happens as their last epoch finalizes)
/// @param firmRate sum of ratePerEpoch of firm leases active in the last finalized epoch
/// @param deliveredRemainder sub-unit remainder of delivered value (scale 1e8) carried to the next epoch
/// @param interruptibleRate sum of ratePerEpoch of interruptible leases active in the last finalized epoch
/// @param holdersRevenue revenue owed to the asset's share holders, paid on their claims (stablecoin base units)
struct AssetLedger {
    uint64 nextEpochToFinalize;
    uint32 committedGpus;
    uint128 firmRate;
    uint32 deliveredRemainder;
    uint128 interruptibleRate;
    uint128 holdersRevenue;
}

/// @notice Cumulative per-epoch indices a lease reads at its start and end (one slot per epoch).
/// @dev Each is a sum over epochs of a fraction scaled by 1e8; leases charge rate x difference / 1e8.
/// @param firmDelivered cumulative uptime x 1e4 (uptime in bps; zero for an unproven epoch)
/// @param interruptibleDelivered cumulative uptime x (1e4 - curtailed)
/// @param serviceCredit cumulative credit fraction paid to firm leases from the bond
/// @param finalizedAt timestamp; zero while not finalized
struct EpochIndex {
    uint64 firmDelivered;
    uint64 interruptibleDelivered;
    uint64 serviceCredit;
    uint64 finalizedAt;
}

/// @title LeaseMarket
/// @notice Leases of GPU capacity paid upfront into stablecoin escrow, settled per epoch against the
///         MetricsOracle: delivered value goes to the treasury, the operator and the share holders; the
///         undelivered value stays the lessee's. Each lease is an ERC-721 position with an ERC-4907 user.
///         Nothing here loops over leases or holders: per-asset rate buckets and cumulative indices.
interface ILeaseMarket is IERC4907, IStablecoinGuard {
    /// @notice Raised when a lease is opened or extended on an asset that is not active (unknown, paused or
    ///         retired), and when epochs are finalized for an asset id that was never registered.
    /// @param assetId the asset
    error MarketAssetNotLeasable(uint256 assetId);
    /// @notice Raised when a lease is opened, or a price quoted, for zero GPUs.
    error MarketZeroGpus();
    /// @notice Raised when a lease is opened for zero epochs or more than MAX_LEASE_EPOCHS, or extended by zero
    ///         epochs or past MAX_LEASE_EPOCHS in all.
    /// @param epochs the epochs asked for
    /// @param max the longest a lease may run, epochs (MAX_LEASE_EPOCHS)
    error MarketInvalidDuration(uint64 epochs, uint64 max);
    /// @notice Raised when a lease is opened, or a price quoted, for more GPUs than the asset has uncommitted.
    /// @param assetId the asset
    /// @param requested the GPUs asked for
    /// @param available the asset's GPUs not committed to leases
    error MarketCapacityExceeded(uint256 assetId, uint32 requested, uint32 available);
    /// @notice Raised when the curve's price for a new lease is above the lessee's `maxPricePerGpuHour`.
    /// @param pricePerGpuHour the price, stablecoin base units per GPU-hour
    /// @param maxPricePerGpuHour the lessee's limit, stablecoin base units per GPU-hour
    error MarketPriceAboveMax(uint256 pricePerGpuHour, uint256 maxPricePerGpuHour);
    /// @notice Raised when the lease does not exist, or when anyone but its owner or an approved operator
    ///         closes it, claims its refund or sets its user (anyone may extend an existing lease).
    /// @param leaseId the lease
    /// @param caller the caller
    error MarketNotLeaseOwner(uint256 leaseId, address caller);
    /// @notice Raised when a lease is closed that already ends at the next epoch boundary or earlier (or was
    ///         cancelled), or extended when it was cancelled or its last epoch has ended.
    /// @param leaseId the lease
    /// @param endEpoch the lease's end: the first epoch it no longer covers
    error MarketLeaseEnded(uint256 leaseId, uint64 endEpoch);
    /// @notice Raised by {finalizeEpoch} when the oracle's outcome of the epoch is not final yet (its report
    ///         is in its challenge window or disputed, or its report deadline has not passed without one).
    /// @param assetId the asset
    /// @param epoch the epoch index
    error MarketEpochNotFinalizable(uint256 assetId, uint64 epoch);
    /// @notice Raised by {finalizeEpoch} for an epoch other than the asset's next one to settle.
    /// @param assetId the asset
    /// @param epoch the epoch index given
    /// @param expected the asset's next epoch to settle
    error MarketEpochOutOfOrder(uint256 assetId, uint64 epoch, uint64 expected);
    /// @notice Raised when the caller withdraws fees and has none.
    /// @param account the caller
    error MarketNothingToClaim(address account);
    /// @notice Raised when the lease's owner claims and the lease has neither refund nor credit to pay.
    /// @param leaseId the lease
    error MarketNothingToRefund(uint256 leaseId);
    /// @notice Raised when anyone but the registry records a new asset's shares.
    /// @param caller the caller
    error MarketOnlyRegistry(address caller);
    /// @notice Raised when anyone but the asset's own CapacityShares asks to pay its holders' revenue.
    /// @param assetId the asset
    /// @param caller the caller
    error MarketOnlyShares(uint256 assetId, address caller);
    /// @notice The registry slashed less than the bond held a moment before (cannot happen with this registry).
    ///         Raised at settlement when the bond pays the epoch's credits.
    /// @param assetId the asset
    /// @param needed the credits the bond had to pay, stablecoin base units
    /// @param slashed what the registry slashed, stablecoin base units
    error MarketBondShort(uint256 assetId, uint256 needed, uint256 slashed);
    /// @notice Raised when the asset's shares ask to pay more holder revenue than the asset's ledger holds
    ///         (cannot happen with the protocol's CapacityShares).
    /// @param assetId the asset
    /// @param requested the amount asked for, stablecoin base units
    /// @param available the holders' revenue held for the asset, stablecoin base units
    error MarketInsufficientHolderRevenue(uint256 assetId, uint256 requested, uint256 available);
    /// @notice Raised when energy income is deposited for an asset id that was never registered.
    /// @param assetId the asset id given
    error MarketUnknownAsset(uint256 assetId);
    /// @notice Raised when anyone but the asset's operator deposits energy income.
    /// @param assetId the asset
    /// @param caller the caller
    error MarketNotOperator(uint256 assetId, address caller);
    /// @notice Raised when energy income is deposited with a zero reference.
    error MarketZeroReference();
    /// @notice Below MIN_ENERGY_INCOME base units: too small for the holders' share to be worth a deposit.
    ///         Raised when energy income below a hundredth of one coin is deposited.
    /// @param amount the deposit, stablecoin base units
    /// @param min the smallest deposit, stablecoin base units (minEnergyIncome)
    error MarketDustAmount(uint256 amount, uint256 min);
    /// @notice The reference is a grid event declared for another asset. Raised by an energy-income deposit
    ///         whose reference is the declaration id of another asset's grid event.
    /// @param reference_ the reference given
    /// @param eventAssetId the asset the grid event was declared for
    /// @param assetId the asset the income was deposited for
    error MarketEventOfOtherAsset(bytes32 reference_, uint256 eventAssetId, uint256 assetId);
    /// @notice The contract holds no more stablecoin than it owes: there is nothing sent by mistake to sweep.
    /// @param held the contract's stablecoin balance, base units
    /// @param owed what it owes (escrow, holders' revenue and fees), base units
    error MarketNothingToSweep(uint256 held, uint256 owed);

    /// @notice Emitted when a lease is opened (prepaid in full, the lease minted to the lessee).
    /// @param leaseId the new lease (its ERC-721 token id)
    /// @param assetId the asset leased
    /// @param lessee who holds the lease
    /// @param class firm or interruptible
    /// @param gpus GPUs leased
    /// @param startEpoch first leased epoch (the epoch after the current one)
    /// @param endEpoch first epoch no longer leased
    /// @param pricePerGpuHour the curve's price, stablecoin base units per GPU-hour
    /// @param ratePerEpoch stablecoin base units owed per fully delivered epoch
    /// @param prepaid the prepayment taken from the caller, `ratePerEpoch` x epochs, stablecoin base units
    event LeaseOpened(
        uint256 indexed leaseId,
        uint256 indexed assetId,
        address indexed lessee,
        LeaseClass class,
        uint32 gpus,
        uint64 startEpoch,
        uint64 endEpoch,
        uint256 pricePerGpuHour,
        uint256 ratePerEpoch,
        uint256 prepaid
    );
    /// @notice Emitted when a lease is closed early, or cancelled before it started (then followed by
    ///         LeaseCancelled).
    /// @param leaseId the lease
    /// @param oldEndEpoch its end before the close
    /// @param newEndEpoch its end now: the next epoch boundary, or its start when cancelled
    /// @param refunded the prepayment credited to the lease (less the cancellation charge), stablecoin base units
    event LeaseClosed(uint256 indexed leaseId, uint64 oldEndEpoch, uint64 newEndEpoch, uint256 refunded);
    /// @notice An unstarted lease was cancelled: `charge` (one epoch's rate) became the asset's income.
    /// @param leaseId the lease
    /// @param charge the cancellation charge, stablecoin base units
    event LeaseCancelled(uint256 indexed leaseId, uint256 charge);
    /// @notice Stablecoin held above what the contract owes (sent to it by mistake) went to the treasury.
    /// @param treasury the protocol treasury paid
    /// @param amount the surplus sent, stablecoin base units
    event SurplusSwept(address indexed treasury, uint256 amount);
    /// @notice Emitted when a lease is extended.
    /// @param leaseId the lease
    /// @param oldEndEpoch its end before
    /// @param newEndEpoch its end now
    /// @param paid the prepayment taken from the caller, stablecoin base units
    event LeaseExtended(uint256 indexed leaseId, uint64 oldEndEpoch, uint64 newEndEpoch, uint256 paid);
    /// @notice Emitted when a lease's owner claims its refund and credits.
    /// @param leaseId the lease
    /// @param to the address paid
    /// @param refund undelivered value and a close's refund paid, stablecoin base units
    /// @param serviceCredit credits paid from the slashed bond (SLA credits for firm leases, curtailment-cap
    ///        credits for interruptible ones), stablecoin base units; zero when the registry could not pay them
    ///        now (they stay claimable)
    event LeaseRefunded(uint256 indexed leaseId, address indexed to, uint256 refund, uint256 serviceCredit);
    /// @notice Emitted when an epoch of an asset is settled.
    /// @param assetId the asset
    /// @param epoch the epoch index settled
    /// @param proven whether a valid report exists (false: nothing delivered)
    /// @param uptimeBps the reported uptime settled on, bps (zero when unproven)
    /// @param curtailedBps the reported share of the epoch under grid curtailment, bps (zero when unproven)
    /// @param delivered value moved from the lessees' escrow to revenue, stablecoin base units
    /// @param protocolFee the protocol's fee of it, stablecoin base units
    /// @param operatorFee the operator's fee of it, stablecoin base units
    /// @param holdersRevenue the share holders' part of it, stablecoin base units
    /// @param serviceCredit SLA credit owed to firm lessees from the bond for uptime below the target,
    ///        stablecoin base units (curtailment-cap credits are in CurtailmentCapExceeded)
    event EpochSettled(
        uint256 indexed assetId,
        uint64 indexed epoch,
        bool proven,
        uint32 uptimeBps,
        uint32 curtailedBps,
        uint256 delivered,
        uint256 protocolFee,
        uint256 operatorFee,
        uint256 holdersRevenue,
        uint256 serviceCredit
    );
    /// @notice Emitted when an account withdraws its fees (the treasury's include the protocol fees).
    /// @param account the caller whose fees were paid
    /// @param to the address paid
    /// @param amount the fees paid, stablecoin base units
    event FeesWithdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice An epoch's curtailment went past the asset's cap for its 30-day period: interruptible lessees
    ///         are credited the excess again from the bond (`credit`, all interruptible leases together).
    ///         Emitted at settlement of a proven, curtailed epoch with interruptible leases active.
    /// @param assetId the asset
    /// @param epoch the epoch index settled
    /// @param period the 30-day period (counted from genesis) the epoch falls in
    /// @param excessBps the curtailment past the cap, bps of the epoch (at most the epoch's curtailment)
    /// @param credit the bond taken for it, stablecoin base units (less than the excess is worth when the bond
    ///        is short)
    event CurtailmentCapExceeded(
        uint256 indexed assetId, uint64 indexed epoch, uint32 period, uint32 excessBps, uint256 credit
    );
    /// @notice Demand-response or energy-credit income the operator paid into the asset's revenue.
    /// @param assetId the asset
    /// @param reference_ the grid event's declaration id, or the program's settlement id
    /// @param from the operator (the caller)
    /// @param amount the income paid in, stablecoin base units
    /// @param protocolFee the protocol's fee of it, stablecoin base units
    /// @param operatorFee the operator's fee of it, stablecoin base units
    /// @param holdersRevenue the share holders' part of it, stablecoin base units
    event EnergyIncomeDeposited(
        uint256 indexed assetId,
        bytes32 indexed reference_,
        address indexed from,
        uint256 amount,
        uint256 protocolFee,
        uint256 operatorFee,
        uint256 holdersRevenue
    );

    /// @notice The operator pays demand-response or energy-credit income (`reference_`: the grid event id, or
    ///         the program's settlement id) into the asset's revenue, split like lease revenue.
    function depositEnergyIncome(uint256 assetId, uint256 amount, bytes32 reference_) external;

    /// @notice Leases `gpus` of an asset for `epochs` epochs from the next epoch, prepaying all of it.
    /// @param maxPricePerGpuHour slippage guard on the curve price: a front-runner that raises the price
    ///        (a lease opened just before, cancelled or not) cannot make the lessee pay above it
    function openLease(uint256 assetId, uint32 gpus, uint64 epochs, LeaseClass class, uint256 maxPricePerGpuHour)
        external
        returns (uint256 leaseId);

    /// @notice {openLease} paid by the caller, the lease minted to `lessee` (the payment router's path).
    function openLeaseFor(
        address lessee,
        uint256 assetId,
        uint32 gpus,
        uint64 epochs,
        LeaseClass class,
        uint256 maxPricePerGpuHour
    ) external returns (uint256 leaseId);

    /// @notice Ends a lease at the next epoch boundary, or cancels it if it has not started (for a charge of
    ///         one epoch's rate, the asset's income), and credits the prepayment of every epoch not begun
    ///         to the lease: whoever holds the lease claims it with {claimRefund}, so the refund follows the
    ///         position (a seller cannot empty a lease it listed). Started epochs settle as usual.
    /// @return refunded the prepayment credited to the lease
    function closeLease(uint256 leaseId) external returns (uint256 refunded);

    /// @notice Tops a lease up: `epochs` more epochs after its end at the lease's own rate, prepaid by the
    ///         caller (anyone may pay for a lease; the value stays the lease's). The GPUs stay committed, so no capacity check is needed; the whole lease stays within
    ///         MAX_LEASE_EPOCHS, so a cheap rate cannot be held for longer than any lease could be opened for.
    ///         Only a lease whose last epoch has not ended (so not yet settled) can be extended.
    function extendLease(uint256 leaseId, uint64 epochs) external returns (uint256 paid);

    /// @notice Pays the lease owner the undelivered value and service credits of its finalized epochs and
    ///         the refund of a close. Reverts with StablecoinAccountFrozen when the issuer froze the owner
    ///         and `to` is another address (to itself, the token refuses it or keeps it frozen).
    function claimRefund(uint256 leaseId, address to) external returns (uint256 refund, uint256 credit);

    /// @notice Settles one epoch of one asset; epochs settle in order. Anyone may call.
    function finalizeEpoch(uint256 assetId, uint64 epoch) external;

    /// @notice Settles up to `count` epochs of one asset in order from the next unsettled one; stops at
    ///         the first epoch that is not ready. Loops over epochs, never over leases.
    function finalizeEpochs(uint256 assetId, uint64 count) external returns (uint64 finalized);

    /// @notice Sends the caller's accrued fees to `to`: operator fees, plus the protocol fees if the
    ///         caller is the treasury. Reverts with StablecoinAccountFrozen when the issuer froze the caller
    ///         and `to` is another address.
    function withdrawFees(address to) external returns (uint256 amount);

    /// @notice Sends the stablecoin held above {owed} (sent here by mistake, e.g. by a bare
    ///         `transferWithAuthorization`) to the treasury. Never touches what anyone is owed.
    function sweepSurplus() external returns (uint256 amount);

    /// @notice Every stablecoin unit this contract owes: escrow, holders' revenue and fees.
    function owed() external view returns (uint256);

    /// @notice Price of one GPU-hour for a new lease of `gpus` GPUs of `class` now.
    function quote(uint256 assetId, uint32 gpus, LeaseClass class) external view returns (uint256 pricePerGpuHour);

    /// @notice Refund and credit the lease's owner could claim now.
    function refundable(uint256 leaseId) external view returns (uint256 refund, uint256 credit);

    /// @notice The lease's record.
    function leaseOf(uint256 leaseId) external view returns (Lease memory);
    /// @notice The asset's settlement state.
    function ledgerOf(uint256 assetId) external view returns (AssetLedger memory);
    /// @notice The asset's cumulative indices as of `epoch` (all zero while it is not finalized).
    function epochIndexOf(uint256 assetId, uint64 epoch) external view returns (EpochIndex memory);

    /// @notice Pays `amount` of an asset's holder revenue to `to`; only that asset's CapacityShares.
    function payHolderRevenue(uint256 assetId, address to, uint256 amount) external;

    /// @notice Records an asset's shares contract; only the registry, once per asset.
    function onAssetRegistered(uint256 assetId, address shares) external;
    /// @notice The account's operator fees not yet withdrawn, stablecoin base units.
    function feesOf(address account) external view returns (uint256);
    /// @notice The protocol fees not yet withdrawn by the treasury, stablecoin base units.
    function protocolFees() external view returns (uint256);
    /// @notice The asset's GPUs not committed to leases.
    function availableGpus(uint256 assetId) external view returns (uint32);
    /// @notice Leases opened so far (the latest lease id).
    function leaseCount() external view returns (uint256);
    /// @notice Energy income deposited for an asset, in total and the holders' part of it (after fees).
    function energyIncomeOf(uint256 assetId) external view returns (uint256 total, uint256 holders);
}
