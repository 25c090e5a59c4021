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
struct Lease {
    uint64 assetId;
    uint32 gpus;
    LeaseClass class;
    uint64 startEpoch; // first leased epoch
    uint64 endEpoch; // first epoch no longer leased
    uint128 ratePerEpoch; // stablecoin base units owed per fully delivered epoch
    uint128 refundPaid; // undelivered value already paid back
    uint128 creditPaid; // service credits already paid
    uint128 closedRefund; // prepayment of the epochs a close removed: the holder of the lease claims it
}

/// @notice Per-asset settlement state, updated once per finalized epoch.
/// @dev Two storage slots, written once per finalized epoch.
struct AssetLedger {
    uint64 nextEpochToFinalize; // every epoch below it is final
    uint32 committedGpus; // GPUs of leases not yet released (release happens as their last epoch finalizes)
    uint128 firmRate; // sum of ratePerEpoch of firm leases active in the last finalized epoch
    uint32 deliveredRemainder; // sub-unit remainder of delivered value (scale 1e8) carried to the next epoch
    uint128 interruptibleRate;
    uint128 holdersRevenue; // revenue owed to the asset's share holders, paid on their claims
}

/// @notice Cumulative per-epoch indices a lease reads at its start and end (one slot per epoch).
/// @dev Each is a sum over epochs of a fraction scaled by 1e8; leases charge rate x difference / 1e8.
struct EpochIndex {
    uint64 firmDelivered; // cumulative uptime x 1e4
    uint64 interruptibleDelivered; // cumulative uptime x (1e4 - curtailed)
    uint64 serviceCredit; // cumulative credit fraction paid to firm leases from the bond
    uint64 finalizedAt; // timestamp; zero while not finalized
}

/// @title LeaseMarket
/// @notice Leases of GPU capacity paid upfront into stablecoin escrow, settled per epoch against the
///         MetricsOracle: delivered value goes to the treasury, the operator and the share holders; the
///         undelivered value stays the lessee's. Each lease is an ERC-721 position with an ERC-4907 user.
///         Nothing here loops over leases or holders: per-asset rate buckets and cumulative indices.
interface ILeaseMarket is IERC4907, IStablecoinGuard {
    error MarketAssetNotLeasable(uint256 assetId);
    error MarketZeroGpus();
    error MarketInvalidDuration(uint64 epochs, uint64 max);
    error MarketCapacityExceeded(uint256 assetId, uint32 requested, uint32 available);
    error MarketPriceAboveMax(uint256 pricePerGpuHour, uint256 maxPricePerGpuHour);
    error MarketNotLeaseOwner(uint256 leaseId, address caller);
    error MarketLeaseEnded(uint256 leaseId, uint64 endEpoch);
    error MarketEpochNotFinalizable(uint256 assetId, uint64 epoch);
    error MarketEpochOutOfOrder(uint256 assetId, uint64 epoch, uint64 expected);
    error MarketNothingToClaim(address account);
    error MarketNothingToRefund(uint256 leaseId);
    error MarketOnlyRegistry(address caller);
    error MarketOnlyShares(uint256 assetId, address caller);
    /// @notice The registry slashed less than the bond held a moment before (cannot happen with this registry).
    error MarketBondShort(uint256 assetId, uint256 needed, uint256 slashed);
    error MarketInsufficientHolderRevenue(uint256 assetId, uint256 requested, uint256 available);
    error MarketUnknownAsset(uint256 assetId);
    error MarketNotOperator(uint256 assetId, address caller);
    error MarketZeroReference();
    /// @notice Below MIN_ENERGY_INCOME base units: too small for the holders' share to be worth a deposit.
    error MarketDustAmount(uint256 amount, uint256 min);
    /// @notice The reference is a grid event declared for another asset.
    error MarketEventOfOtherAsset(bytes32 reference_, uint256 eventAssetId, uint256 assetId);
    /// @notice The contract holds no more stablecoin than it owes: there is nothing sent by mistake to sweep.
    error MarketNothingToSweep(uint256 held, uint256 owed);

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
    event LeaseClosed(uint256 indexed leaseId, uint64 oldEndEpoch, uint64 newEndEpoch, uint256 refunded);
    /// @notice An unstarted lease was cancelled: `charge` (one epoch's rate) became the asset's income.
    event LeaseCancelled(uint256 indexed leaseId, uint256 charge);
    /// @notice Stablecoin held above what the contract owes (sent to it by mistake) went to the treasury.
    event SurplusSwept(address indexed treasury, uint256 amount);
    event LeaseExtended(uint256 indexed leaseId, uint64 oldEndEpoch, uint64 newEndEpoch, uint256 paid);
    event LeaseRefunded(uint256 indexed leaseId, address indexed to, uint256 refund, uint256 serviceCredit);
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
    event FeesWithdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice An epoch's curtailment went past the asset's cap for its 30-day period: interruptible lessees
    ///         are credited the excess again from the bond (`credit`, all interruptible leases together).
    event CurtailmentCapExceeded(
        uint256 indexed assetId, uint64 indexed epoch, uint32 period, uint32 excessBps, uint256 credit
    );
    /// @notice Demand-response or energy-credit income the operator paid into the asset's revenue.
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

    function leaseOf(uint256 leaseId) external view returns (Lease memory);
    function ledgerOf(uint256 assetId) external view returns (AssetLedger memory);
    function epochIndexOf(uint256 assetId, uint64 epoch) external view returns (EpochIndex memory);

    /// @notice Pays `amount` of an asset's holder revenue to `to`; only that asset's CapacityShares.
    function payHolderRevenue(uint256 assetId, address to, uint256 amount) external;

    /// @notice Records an asset's shares contract; only the registry, once per asset.
    function onAssetRegistered(uint256 assetId, address shares) external;
    function feesOf(address account) external view returns (uint256);
    function protocolFees() external view returns (uint256);
    function availableGpus(uint256 assetId) external view returns (uint32);
    function leaseCount() external view returns (uint256);
    /// @notice Energy income deposited for an asset, in total and the holders' part of it (after fees).
    function energyIncomeOf(uint256 assetId) external view returns (uint256 total, uint256 holders);
}
