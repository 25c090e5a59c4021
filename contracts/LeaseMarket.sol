// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AssetStatus, AssetTerms, ICapacityRegistry} from "./interfaces/ICapacityRegistry.sol";
import {ICapacityShares} from "./interfaces/ICapacityShares.sol";
import {AssetLedger, EpochIndex, ILeaseMarket, Lease, LeaseClass} from "./interfaces/ILeaseMarket.sol";
import {IMetricsOracle} from "./interfaces/IMetricsOracle.sol";
import {Constants} from "./libraries/Constants.sol";
import {PricingLib} from "./libraries/PricingLib.sol";
import {ScheduleLib} from "./libraries/ScheduleLib.sol";
import {SettlementLib} from "./libraries/SettlementLib.sol";
import {StablecoinLib} from "./libraries/StablecoinLib.sol";
import {LeasePayouts} from "./market/LeasePayouts.sol";

/// @title LeaseMarket
/// @notice See {ILeaseMarket}. Every stablecoin unit of lessees, operators, the treasury and share holders
///         sits here until its owner pulls it, so a blocklisted account can only ever block itself, and an
///         account the issuer froze can neither pull its value nor hand its lease to another address.
///         Settlement moves no tokens: the bond's credits stay in the registry until a lessee claims them.
/// @dev The settlement math is {SettlementLib}'s (escrow stays solvent: revenue never exceeds what leases are
///      charged), the schedule of rate changes {ScheduleLib}'s.
contract LeaseMarket is LeasePayouts {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using ScheduleLib for ScheduleLib.Bucket;

    uint64 public constant MAX_LEASE_EPOCHS = 1_000_000;

    uint256 private _leaseCount;
    mapping(uint256 leaseId => Lease) private _leases;
    mapping(uint256 assetId => mapping(uint64 epoch => EpochIndex)) private _indices;

    /// @dev Working values of one epoch's settlement.
    struct EpochOutcome {
        bool proven;
        uint32 uptimeBps;
        uint32 curtailedBps;
        uint256 firmRate;
        uint256 interruptibleRate;
        uint256 firmFraction;
        uint256 interruptibleFraction;
        uint256 creditFraction;
        uint256 delivered;
        uint256 protocolFee;
        uint256 operatorFee;
        uint256 holders;
    }

    constructor(ICapacityRegistry registry_, IMetricsOracle oracle_) LeasePayouts(registry_, oracle_) {}

    // ---------------------------------------------------------------- leases

    /// @inheritdoc ILeaseMarket
    function openLease(uint256 assetId, uint32 gpus, uint64 epochs, LeaseClass class, uint256 maxPricePerGpuHour)
        external
        returns (uint256 leaseId)
    {
        return _open(msg.sender, assetId, gpus, epochs, class, maxPricePerGpuHour);
    }

    /// @inheritdoc ILeaseMarket
    function openLeaseFor(
        address lessee,
        uint256 assetId,
        uint32 gpus,
        uint64 epochs,
        LeaseClass class,
        uint256 maxPricePerGpuHour
    ) external returns (uint256 leaseId) {
        return _open(lessee, assetId, gpus, epochs, class, maxPricePerGpuHour);
    }

    function _open(
        address lessee,
        uint256 assetId,
        uint32 gpus,
        uint64 epochs,
        LeaseClass class,
        uint256 maxPricePerGpuHour
    ) private returns (uint256 leaseId) {
        AssetTerms memory t = registry.terms(assetId);
        if (t.status != AssetStatus.Active) revert MarketAssetNotLeasable(assetId);
        if (gpus == 0) revert MarketZeroGpus();
        if (epochs == 0 || epochs > MAX_LEASE_EPOCHS) revert MarketInvalidDuration(epochs, MAX_LEASE_EPOCHS);
        (uint256 price, uint128 rate) = _reserve(assetId, t, gpus, class);
        if (price > maxPricePerGpuHour) revert MarketPriceAboveMax(price, maxPricePerGpuHour);

        uint64 start = _currentEpoch(t) + 1;
        uint64 end = start + epochs;
        ScheduleLib.schedule(_buckets[assetId], class == LeaseClass.Firm, rate, gpus, start, end);
        leaseId = ++_leaseCount;
        _store(_leases[leaseId], assetId, gpus, class, start, end, rate);
        uint256 prepaid = uint256(rate) * epochs;
        _owed += prepaid;
        emit LeaseOpened(leaseId, assetId, lessee, class, gpus, start, end, price, rate, prepaid);
        StablecoinLib.pullExact(stablecoin, msg.sender, prepaid);
        _mint(lessee, leaseId);
    }

    /// @dev Writes a new lease's first two slots only: the third (credits paid, a close's refund) starts at
    ///      zero and is written only by a lease that is ever credited or closed.
    function _store(
        Lease storage l,
        uint256 assetId,
        uint32 gpus,
        LeaseClass class,
        uint64 start,
        uint64 end,
        uint128 rate
    ) private {
        l.assetId = assetId.toUint64(); // registry ids count up from 1
        l.gpus = gpus;
        l.class = class;
        l.startEpoch = start;
        l.endEpoch = end;
        l.ratePerEpoch = rate;
    }

    /// @dev Commits `gpus` of capacity. Leases always start at the next epoch and no lease starts later,
    ///      so the busiest epoch of a new lease is its first: checking the commitment now is enough.
    function _reserve(uint256 assetId, AssetTerms memory t, uint32 gpus, LeaseClass class)
        private
        returns (uint256 price, uint128 rate)
    {
        AssetLedger storage ledger = _ledgers[assetId];
        uint32 committed = ledger.committedGpus;
        // committed <= gpuCount always holds: it is checked here on every increase
        uint32 available = t.gpuCount - committed;
        if (gpus > available) revert MarketCapacityExceeded(assetId, gpus, available);
        ledger.committedGpus = committed + gpus;
        price = PricingLib.price(registry.curve(assetId), t.gpuCount, committed + gpus, class);
        rate = Math.mulDiv(uint256(gpus) * price, t.epochLength, 3600, Math.Rounding.Ceil).toUint128();
    }

    /// @inheritdoc ILeaseMarket
    function closeLease(uint256 leaseId) external returns (uint256 refunded) {
        _requireLeaseOwner(leaseId);
        Lease storage l = _leases[leaseId];
        uint256 assetId = l.assetId;
        AssetTerms memory t = registry.terms(assetId);
        uint64 oldEnd = l.endEpoch;
        uint64 newEnd = _currentEpoch(t) + 1;
        if (newEnd < l.startEpoch) newEnd = l.startEpoch;
        if (newEnd >= oldEnd) revert MarketLeaseEnded(leaseId, oldEnd);

        uint128 rate = l.ratePerEpoch;
        uint32 gpus = l.gpus;
        bool firm = l.class == LeaseClass.Firm;
        mapping(uint64 => ScheduleLib.Bucket) storage buckets = _buckets[assetId];
        // Every bucket touched here is at an epoch >= the current one, which cannot be settled yet, and its
        // GPUs are read when the epoch before it settles, which cannot have happened either (newEnd - 1 is
        // at least the current epoch).
        buckets[oldEnd].removeEnd(firm, rate, gpus);
        refunded = uint256(rate) * (oldEnd - newEnd);
        uint256 charge = 0;
        // slither-disable-next-line incorrect-equality (epoch numbers)
        if (newEnd == l.startEpoch) {
            // Not started: cancel outright and free the capacity now, for one epoch's rate to the asset's
            // income, so that cancelling is never cheaper than the shortest lease (see the README).
            buckets[newEnd].removeStart(firm, rate);
            _ledgers[assetId].committedGpus -= gpus;
            charge = rate;
            refunded -= charge; // oldEnd > newEnd, so the prepaid term is at least one epoch
        } else {
            buckets[newEnd].addEnd(firm, rate, gpus);
        }
        l.endEpoch = newEnd;
        // The refund stays with the lease: whoever holds it claims it, so a seller cannot empty a lease it
        // has listed for sale.
        l.closedRefund += refunded.toUint128();
        emit LeaseClosed(leaseId, oldEnd, newEnd, refunded);
        if (charge != 0) {
            emit LeaseCancelled(leaseId, charge);
            _addIncome(assetId, t, charge);
        }
    }

    /// @inheritdoc ILeaseMarket
    function extendLease(uint256 leaseId, uint64 epochs) external returns (uint256 paid) {
        Lease storage l = _leases[leaseId];
        if (_ownerOf(leaseId) == address(0)) revert MarketNotLeaseOwner(leaseId, msg.sender);
        uint256 assetId = l.assetId;
        AssetTerms memory t = registry.terms(assetId);
        if (t.status != AssetStatus.Active) revert MarketAssetNotLeasable(assetId);
        uint64 start = l.startEpoch;
        uint64 oldEnd = l.endEpoch;
        // A cancelled lease ends where it starts; a lease whose last epoch has ended may already be settled
        // (its GPUs released), and an epoch cannot settle before it ends.
        if (oldEnd == start || oldEnd <= _currentEpoch(t)) revert MarketLeaseEnded(leaseId, oldEnd);
        // oldEnd - start <= MAX_LEASE_EPOCHS, so the sum cannot overflow before the check
        uint256 total = uint256(oldEnd - start) + epochs;
        if (epochs == 0 || total > MAX_LEASE_EPOCHS) revert MarketInvalidDuration(epochs, MAX_LEASE_EPOCHS);
        uint64 newEnd = oldEnd + epochs;

        uint128 rate = l.ratePerEpoch;
        uint32 gpus = l.gpus;
        mapping(uint64 => ScheduleLib.Bucket) storage buckets = _buckets[assetId];
        // Both buckets are at epochs > the current one, and the epochs before them cannot be settled yet.
        bool firm = l.class == LeaseClass.Firm;
        buckets[oldEnd].removeEnd(firm, rate, gpus);
        buckets[newEnd].addEnd(firm, rate, gpus);
        l.endEpoch = newEnd;
        paid = uint256(rate) * epochs;
        _owed += paid;
        emit LeaseExtended(leaseId, oldEnd, newEnd, paid);
        StablecoinLib.pullExact(stablecoin, msg.sender, paid);
    }

    /// @inheritdoc ILeaseMarket
    // slither-disable-next-line reentrancy-no-eth (the call is to the registry, immutable; it only undoes on failure)
    function claimRefund(uint256 leaseId, address to) external returns (uint256 refund, uint256 credit) {
        address owner = _requireLeaseOwner(leaseId);
        if (to != owner) _requireNotFrozen(owner); // paid to itself, its value stays frozen
        (refund, credit) = refundable(leaseId);
        // slither-disable-next-line incorrect-equality (a sum of owed amounts, not a balance anyone can move)
        if (refund + credit == 0) revert MarketNothingToRefund(leaseId);
        Lease storage l = _leases[leaseId];
        l.refundPaid += refund.toUint128();
        l.creditPaid += credit.toUint128();
        _owed -= refund;
        // The credits are slashed bond, held by the registry for this contract. If the registry cannot pay
        // them now (the issuer froze it), the refund is paid all the same and the credits stay claimable.
        if (credit != 0) {
            try registry.release(to, credit) {}
            catch {
                l.creditPaid -= uint128(credit); // undoes the addition above
                credit = 0;
            }
        }
        emit LeaseRefunded(leaseId, to, refund, credit);
        if (refund != 0) stablecoin.safeTransfer(to, refund);
    }

    /// @inheritdoc ILeaseMarket
    function refundable(uint256 leaseId) public view returns (uint256 refund, uint256 credit) {
        Lease memory l = _leases[leaseId];
        uint64 next = _ledgers[l.assetId].nextEpochToFinalize;
        // Only finalized epochs count: [start, min(next, end)).
        uint64 stop = next < l.endEpoch ? next : l.endEpoch;
        if (stop <= l.startEpoch) return (l.closedRefund - l.refundPaid, 0);
        EpochIndex memory last = _indices[l.assetId][stop - 1];
        EpochIndex memory before = _indices[l.assetId][l.startEpoch - 1];
        uint256 due = uint256(l.ratePerEpoch) * (stop - l.startEpoch);
        uint256 deliveredFraction;
        // slither-disable-next-line incorrect-equality (an enum)
        if (l.class == LeaseClass.Firm) {
            deliveredFraction = last.firmDelivered - before.firmDelivered;
            uint256 credited = last.serviceCredit - before.serviceCredit;
            if (credited != 0) credit = SettlementLib.valueDown(l.ratePerEpoch, credited);
        } else {
            deliveredFraction = last.interruptibleDelivered - before.interruptibleDelivered;
            uint256 gained = gridLedger.capCreditBetween(l.assetId, l.startEpoch - 1, stop - 1);
            if (gained != 0) credit = SettlementLib.valueDown(l.ratePerEpoch, gained);
        }
        uint256 charged = SettlementLib.valueUp(l.ratePerEpoch, deliveredFraction);
        // charged <= owed since each epoch's fraction is at most SCALE; both totals only grow with epochs
        refund = due - charged + l.closedRefund - l.refundPaid;
        credit -= l.creditPaid;
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc ILeaseMarket
    function finalizeEpoch(uint256 assetId, uint64 epoch) external {
        uint64 expected = _ledgers[assetId].nextEpochToFinalize;
        if (epoch != expected) revert MarketEpochOutOfOrder(assetId, epoch, expected);
        if (!_finalize(assetId, epoch, registry.terms(assetId))) revert MarketEpochNotFinalizable(assetId, epoch);
    }

    /// @inheritdoc ILeaseMarket
    function finalizeEpochs(uint256 assetId, uint64 count) external returns (uint64 finalized) {
        AssetTerms memory t = registry.terms(assetId);
        uint64 epoch = _ledgers[assetId].nextEpochToFinalize;
        while (finalized < count && _finalize(assetId, epoch, t)) {
            ++finalized;
            ++epoch;
        }
    }

    /// @return settled false if the epoch's outcome is not final yet (nothing changed)
    function _finalize(uint256 assetId, uint64 epoch, AssetTerms memory t) private returns (bool settled) {
        if (t.status == AssetStatus.None) revert MarketAssetNotLeasable(assetId);
        // slither-disable-next-line uninitialized-local (a memory struct starts zeroed; every field is set below)
        EpochOutcome memory o;
        bool ready;
        (ready, o.proven, o.uptimeBps, o.curtailedBps) = oracle.outcome(assetId, epoch);
        if (!ready) return false;

        AssetLedger memory ledger = _ledgers[assetId];
        mapping(uint64 => ScheduleLib.Bucket) storage buckets = _buckets[assetId];
        ScheduleLib.Bucket memory b = buckets[epoch];
        // its gpusEnding were released when the epoch before it settled; the next bucket's are released now
        delete buckets[epoch];
        uint32 released = buckets[epoch + 1].gpusEnding;
        o.firmRate = uint256(ledger.firmRate) + b.firmStart - b.firmEnd;
        o.interruptibleRate = uint256(ledger.interruptibleRate) + b.interruptibleStart - b.interruptibleEnd;
        (o.firmFraction, o.interruptibleFraction) = SettlementLib.fractions(o.proven, o.uptimeBps, o.curtailedBps);
        uint256 creditNeeded;
        (o.creditFraction, creditNeeded) = _serviceCredit(assetId, t, o.firmRate, o.uptimeBps);
        SettlementLib.recordIndex(_indices[assetId], epoch, o.firmFraction, o.interruptibleFraction, o.creditFraction);

        (o.delivered, ledger.deliveredRemainder) = SettlementLib.delivered(
            ledger.deliveredRemainder, o.firmRate, o.firmFraction, o.interruptibleRate, o.interruptibleFraction
        );
        (o.protocolFee, o.operatorFee, o.holders) =
            SettlementLib.splitFees(o.delivered, t.protocolFeeBps, t.operatorFeeBps);

        ledger.nextEpochToFinalize = epoch + 1;
        ledger.committedGpus -= released;
        ledger.firmRate = o.firmRate.toUint128();
        ledger.interruptibleRate = o.interruptibleRate.toUint128();
        ledger.holdersRevenue += o.holders.toUint128();
        _ledgers[assetId] = ledger;
        if (o.protocolFee != 0) protocolFees += o.protocolFee;
        if (o.operatorFee != 0) _fees[t.operator] += o.operatorFee;
        _emitSettled(assetId, epoch, o, creditNeeded);
        // Interactions last: the grid ledger counts curtailment against the cap (our own contract, immutable),
        if (o.curtailedBps != 0 && o.proven && o.interruptibleRate != 0) {
            creditNeeded += _curtailmentCredit(assetId, epoch, t, o, creditNeeded);
        }
        // then the bond pays the credits recorded above and the holders' accumulator moves.
        if (creditNeeded != 0) {
            uint256 slashed = registry.slashBond(assetId, creditNeeded, address(this));
            if (slashed != creditNeeded) revert MarketBondShort(assetId, creditNeeded, slashed);
        }
        if (o.holders != 0) ICapacityShares(t.shares).distribute(o.holders);
        return true;
    }

    /// @dev Counts the epoch's curtailment against the asset's cap for its 30-day period (only while
    ///      interruptible leases are active). Past the cap, interruptible leases are credited the excess again
    ///      from what the bond holds beyond `firmCredit`. The count is per asset, so a lease that started
    ///      mid-period sees at least the credit its own cap would give it, never less.
    /// @return needed the bond the credit takes
    function _curtailmentCredit(
        uint256 assetId,
        uint64 epoch,
        AssetTerms memory t,
        EpochOutcome memory o,
        uint256 firmCredit
    ) private returns (uint256 needed) {
        (uint32 period, uint256 excessSeconds) = gridLedger.countCurtailment(
            assetId, epoch, t.epochLength, t.curtailmentCapHours, o.curtailedBps
        );
        if (excessSeconds == 0) return 0;
        uint256 excessBps = Math.mulDiv(excessSeconds, Constants.BPS, t.epochLength, Math.Rounding.Ceil);
        if (excessBps > o.curtailedBps) excessBps = o.curtailedBps;
        uint256 fraction;
        // _serviceCredit never asks more than the bond
        (fraction, needed) = SettlementLib.cappedCredit(
            o.interruptibleRate, excessBps * Constants.BPS, registry.bondOf(assetId) - firmCredit
        );
        if (fraction != 0) gridLedger.recordCapCredit(assetId, epoch, fraction);
        emit CurtailmentCapExceeded(assetId, epoch, period, uint32(excessBps), needed);
    }

    /// @param firmCredit the firm leases' service credit ({_serviceCredit}'s `needed`)
    function _emitSettled(uint256 assetId, uint64 epoch, EpochOutcome memory o, uint256 firmCredit) private {
        emit EpochSettled(
            assetId,
            epoch,
            o.proven,
            o.uptimeBps,
            o.curtailedBps,
            o.delivered,
            o.protocolFee,
            o.operatorFee,
            o.holders,
            firmCredit
        );
    }

    /// @dev Below the SLA target, firm lessees are credited the shortfall again from the operator's bond,
    ///      as far as the bond goes. Returns the credit fraction (scale 1e8) recorded in the index and the
    ///      amount the bond must pay for it (at most the bond, so the slash that follows pays it in full).
    function _serviceCredit(uint256 assetId, AssetTerms memory t, uint256 firmRate, uint32 uptimeBps)
        private
        view
        returns (uint256 creditFraction, uint256 needed)
    {
        if (firmRate == 0 || uptimeBps >= t.slaTargetBps) return (0, 0);
        uint256 shortfall = uint256(t.slaTargetBps - uptimeBps) * Constants.BPS;
        return SettlementLib.cappedCredit(firmRate, shortfall, registry.bondOf(assetId));
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ILeaseMarket
    function quote(uint256 assetId, uint32 gpus, LeaseClass class) external view returns (uint256) {
        AssetTerms memory t = registry.terms(assetId);
        uint32 committed = _ledgers[assetId].committedGpus;
        uint32 available = t.gpuCount - committed;
        if (gpus == 0) revert MarketZeroGpus();
        if (gpus > available) revert MarketCapacityExceeded(assetId, gpus, available);
        return PricingLib.price(registry.curve(assetId), t.gpuCount, committed + gpus, class);
    }

    function availableGpus(uint256 assetId) external view returns (uint32) {
        return registry.terms(assetId).gpuCount - _ledgers[assetId].committedGpus;
    }

    function leaseOf(uint256 leaseId) external view returns (Lease memory) {
        return _leases[leaseId];
    }

    function epochIndexOf(uint256 assetId, uint64 epoch) external view returns (EpochIndex memory) {
        return _indices[assetId][epoch];
    }

    function leaseCount() external view returns (uint256) {
        return _leaseCount;
    }
}
