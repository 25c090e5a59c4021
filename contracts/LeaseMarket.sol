// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AssetStatus, AssetTerms, ICapacityRegistry, PricingCurve} from "./interfaces/ICapacityRegistry.sol";
import {ICapacityShares} from "./interfaces/ICapacityShares.sol";
import {IERC4907} from "./interfaces/IERC4907.sol";
import {AssetLedger, EpochIndex, ILeaseMarket, Lease, LeaseClass} from "./interfaces/ILeaseMarket.sol";
import {IGridLedger} from "./interfaces/IGridLedger.sol";
import {IMetricsOracle} from "./interfaces/IMetricsOracle.sol";
import {PricingLib} from "./libraries/PricingLib.sol";
import {StablecoinLib} from "./libraries/StablecoinLib.sol";

/// @title LeaseMarket
/// @notice See {ILeaseMarket}. Every stablecoin unit of lessees, operators, the treasury and share holders
///         sits here until its owner pulls it, so a blocklisted account can only ever block itself, and an
///         account the issuer froze can neither pull its value nor hand its lease to another address.
///         Settlement moves no tokens: the bond's credits stay in the registry until a lessee claims them.
/// @dev Settlement math. A lease of rate r over epochs [s, t) is charged ceil(r * (I[last] - I[s-1]) / 1e8)
///      where I is the asset's cumulative delivered-fraction index of the lease's class (scale 1e8 per
///      epoch). An epoch moves floor(sum of rate x fraction / 1e8) from escrow to revenue, carrying the
///      remainder. Since ceil of each part >= floor of the sum, revenue can never exceed what leases are
///      charged: escrow stays solvent, and no lessee pays more than one base unit above the exact value.
contract LeaseMarket is ILeaseMarket, ERC721 {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    uint256 private constant BPS = 10_000;
    uint256 private constant SCALE = 1e8; // fractions: bps x bps
    uint64 public constant MAX_LEASE_EPOCHS = 1_000_000;
    /// @notice The smallest energy-income deposit: a hundredth of one coin, whatever the decimals.
    uint256 public immutable minEnergyIncome;

    /// @dev Changes to the per-class active rate that take effect when an epoch is settled (two slots: the
    ///      starts, and the ends with the GPUs of the same leases). `gpusEnding` are the GPUs of leases whose
    ///      end is this epoch: they are released when the epoch before it is final, so a new lease records
    ///      its end in one slot. The end sums fit 112 bits (5e33 base units an epoch; SafeCast reverts beyond).
    struct Bucket {
        uint128 firmStart;
        uint128 interruptibleStart;
        uint112 firmEnd;
        uint112 interruptibleEnd;
        uint32 gpusEnding;
    }

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

    /// @dev Cumulative energy income of an asset: what was paid in, and what of it went to the holders.
    struct EnergyIncome {
        uint128 total;
        uint128 holders;
    }

    struct UserInfo {
        address user;
        uint64 expires;
    }

    ICapacityRegistry public immutable registry;
    IMetricsOracle public immutable oracle;
    IGridLedger public immutable gridLedger;
    IERC20 public immutable stablecoin;

    uint256 private _leaseCount;
    uint256 public override protocolFees;
    mapping(uint256 leaseId => Lease) private _leases;
    mapping(uint256 leaseId => UserInfo) private _users;
    mapping(uint256 assetId => AssetLedger) private _ledgers;
    mapping(uint256 assetId => address) private _shares;
    mapping(uint256 assetId => mapping(uint64 epoch => Bucket)) private _buckets;
    mapping(uint256 assetId => mapping(uint64 epoch => EpochIndex)) private _indices;
    mapping(address account => uint256) private _fees;
    mapping(uint256 assetId => EnergyIncome) private _energyIncome;
    /// @dev Every stablecoin unit this contract owes: escrow, holders' revenue and fees (taken in, not yet
    ///      paid out). Settlement only moves value between them; what is held above it was sent by mistake.
    uint256 private _owed;

    constructor(ICapacityRegistry registry_, IMetricsOracle oracle_) ERC721("Wellhead GPU Lease", "WHLEASE") {
        registry = registry_;
        oracle = oracle_;
        gridLedger = oracle_.gridLedger();
        stablecoin = IERC20(registry_.stablecoin());
        minEnergyIncome = registry_.wholeCoin() / 100;
    }

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
        _schedule(assetId, class, rate, gpus, start, end);
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

    function _schedule(uint256 assetId, LeaseClass class, uint128 rate, uint32 gpus, uint64 start, uint64 end) private {
        mapping(uint64 => Bucket) storage buckets = _buckets[assetId];
        bool firm = class == LeaseClass.Firm;
        if (firm) buckets[start].firmStart += rate;
        else buckets[start].interruptibleStart += rate;
        _addEnd(buckets[end], firm, rate, gpus);
    }

    function _addEnd(Bucket storage b, bool firm, uint128 rate, uint32 gpus) private {
        if (firm) b.firmEnd = (uint256(b.firmEnd) + rate).toUint112();
        else b.interruptibleEnd = (uint256(b.interruptibleEnd) + rate).toUint112();
        b.gpusEnding += gpus;
    }

    /// @dev Undoes an {_addEnd} of the same lease: its rate is part of the sum, so the cast is exact.
    function _removeEnd(Bucket storage b, bool firm, uint128 rate, uint32 gpus) private {
        if (firm) b.firmEnd -= uint112(rate);
        else b.interruptibleEnd -= uint112(rate);
        b.gpusEnding -= gpus;
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
        mapping(uint64 => Bucket) storage buckets = _buckets[assetId];
        // Every bucket touched here is at an epoch >= the current one, which cannot be settled yet, and its
        // GPUs are read when the epoch before it settles, which cannot have happened either (newEnd - 1 is
        // at least the current epoch).
        _removeEnd(buckets[oldEnd], firm, rate, gpus);
        refunded = uint256(rate) * (oldEnd - newEnd);
        uint256 charge = 0;
        // slither-disable-next-line incorrect-equality (epoch numbers)
        if (newEnd == l.startEpoch) {
            // Not started: cancel outright and free the capacity now, for one epoch's rate to the asset's
            // income, so that cancelling is never cheaper than the shortest lease (see the README).
            if (firm) buckets[newEnd].firmStart -= rate;
            else buckets[newEnd].interruptibleStart -= rate;
            _ledgers[assetId].committedGpus -= gpus;
            charge = rate;
            refunded -= charge; // oldEnd > newEnd, so the prepaid term is at least one epoch
        } else {
            _addEnd(buckets[newEnd], firm, rate, gpus);
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
        mapping(uint64 => Bucket) storage buckets = _buckets[assetId];
        // Both buckets are at epochs > the current one, and the epochs before them cannot be settled yet.
        bool firm = l.class == LeaseClass.Firm;
        _removeEnd(buckets[oldEnd], firm, rate, gpus);
        _addEnd(buckets[newEnd], firm, rate, gpus);
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
            credit = Math.mulDiv(l.ratePerEpoch, last.serviceCredit - before.serviceCredit, SCALE);
        } else {
            deliveredFraction = last.interruptibleDelivered - before.interruptibleDelivered;
            uint256 gained = gridLedger.capCreditBetween(l.assetId, l.startEpoch - 1, stop - 1);
            if (gained != 0) credit = Math.mulDiv(l.ratePerEpoch, gained, SCALE);
        }
        uint256 charged = Math.mulDiv(l.ratePerEpoch, deliveredFraction, SCALE, Math.Rounding.Ceil);
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
        mapping(uint64 => Bucket) storage buckets = _buckets[assetId];
        Bucket memory b = buckets[epoch];
        // its gpusEnding were released when the epoch before it settled; the next bucket's are released now
        delete buckets[epoch];
        uint32 released = buckets[epoch + 1].gpusEnding;
        o.firmRate = uint256(ledger.firmRate) + b.firmStart - b.firmEnd;
        o.interruptibleRate = uint256(ledger.interruptibleRate) + b.interruptibleStart - b.interruptibleEnd;
        if (o.proven) {
            o.firmFraction = uint256(o.uptimeBps) * BPS;
            o.interruptibleFraction = uint256(o.uptimeBps) * (BPS - o.curtailedBps);
        }
        uint256 creditNeeded;
        (o.creditFraction, creditNeeded) = _serviceCredit(assetId, t, o.firmRate, o.uptimeBps);
        _writeIndex(assetId, epoch, o);

        uint256 scaled =
            ledger.deliveredRemainder + o.firmRate * o.firmFraction + o.interruptibleRate * o.interruptibleFraction;
        o.delivered = scaled / SCALE;
        o.protocolFee = o.delivered * t.protocolFeeBps / BPS;
        o.operatorFee = o.delivered * t.operatorFeeBps / BPS;
        // protocol + operator fee bps <= 7,000 < 10,000, so this cannot underflow
        o.holders = o.delivered - o.protocolFee - o.operatorFee;

        ledger.nextEpochToFinalize = epoch + 1;
        ledger.committedGpus -= released;
        ledger.firmRate = o.firmRate.toUint128();
        ledger.interruptibleRate = o.interruptibleRate.toUint128();
        ledger.deliveredRemainder = uint32(scaled % SCALE);
        ledger.holdersRevenue += o.holders.toUint128();
        _ledgers[assetId] = ledger;
        if (o.protocolFee != 0) protocolFees += o.protocolFee;
        if (o.operatorFee != 0) _fees[t.operator] += o.operatorFee;
        _emitSettled(assetId, epoch, o);
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

    function _writeIndex(uint256 assetId, uint64 epoch, EpochOutcome memory o) private {
        // slither-disable-next-line uninitialized-local (zero is the index before epoch 0)
        EpochIndex memory prev;
        if (epoch != 0) prev = _indices[assetId][epoch - 1];
        _indices[assetId][epoch] = EpochIndex({
            firmDelivered: SafeCast.toUint64(prev.firmDelivered + o.firmFraction),
            interruptibleDelivered: SafeCast.toUint64(prev.interruptibleDelivered + o.interruptibleFraction),
            serviceCredit: SafeCast.toUint64(prev.serviceCredit + o.creditFraction),
            finalizedAt: uint64(block.timestamp)
        });
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
        uint256 excessBps = Math.mulDiv(excessSeconds, BPS, t.epochLength, Math.Rounding.Ceil);
        if (excessBps > o.curtailedBps) excessBps = o.curtailedBps;
        uint256 fraction = excessBps * BPS;
        needed = Math.mulDiv(o.interruptibleRate, fraction, SCALE, Math.Rounding.Ceil);
        // _serviceCredit never asks more than the bond
        uint256 left = registry.bondOf(assetId) - firmCredit;
        if (needed > left) {
            fraction = left * SCALE / o.interruptibleRate;
            needed = Math.mulDiv(o.interruptibleRate, fraction, SCALE, Math.Rounding.Ceil);
        }
        if (fraction != 0) gridLedger.recordCapCredit(assetId, epoch, fraction);
        emit CurtailmentCapExceeded(assetId, epoch, period, uint32(excessBps), needed);
    }

    function _emitSettled(uint256 assetId, uint64 epoch, EpochOutcome memory o) private {
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
            Math.mulDiv(o.firmRate, o.creditFraction, SCALE, Math.Rounding.Ceil)
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
        creditFraction = uint256(t.slaTargetBps - uptimeBps) * BPS;
        needed = Math.mulDiv(firmRate, creditFraction, SCALE, Math.Rounding.Ceil);
        uint256 bond = registry.bondOf(assetId);
        if (needed > bond) {
            creditFraction = bond * SCALE / firmRate;
            needed = Math.mulDiv(firmRate, creditFraction, SCALE, Math.Rounding.Ceil);
        }
    }

    // ---------------------------------------------------------------- payouts

    /// @inheritdoc ILeaseMarket
    function withdrawFees(address to) external returns (uint256 amount) {
        if (to != msg.sender) _requireNotFrozen(msg.sender); // paid to itself, its value stays frozen
        amount = _fees[msg.sender];
        _fees[msg.sender] = 0;
        if (msg.sender == registry.treasury()) {
            amount += protocolFees;
            protocolFees = 0;
        }
        if (amount == 0) revert MarketNothingToClaim(msg.sender);
        _owed -= amount;
        emit FeesWithdrawn(msg.sender, to, amount);
        stablecoin.safeTransfer(to, amount);
    }

    /// @inheritdoc ILeaseMarket
    function depositEnergyIncome(uint256 assetId, uint256 amount, bytes32 reference_) external {
        AssetTerms memory t = registry.terms(assetId);
        if (t.status == AssetStatus.None) revert MarketUnknownAsset(assetId);
        if (msg.sender != t.operator) revert MarketNotOperator(assetId, msg.sender);
        if (reference_ == bytes32(0)) revert MarketZeroReference();
        uint256 min = minEnergyIncome;
        if (amount < min) revert MarketDustAmount(amount, min);
        uint256 eventAsset = gridLedger.eventOf(reference_).assetId;
        if (eventAsset != 0 && eventAsset != assetId) revert MarketEventOfOtherAsset(reference_, eventAsset, assetId);

        _owed += amount;
        (uint256 protocolFee, uint256 operatorFee, uint256 holders) = _splitIncome(assetId, t, amount);
        EnergyIncome storage income = _energyIncome[assetId];
        income.total += amount.toUint128();
        income.holders += holders.toUint128();
        emit EnergyIncomeDeposited(assetId, reference_, msg.sender, amount, protocolFee, operatorFee, holders);
        StablecoinLib.pullExact(stablecoin, msg.sender, amount);
        ICapacityShares(t.shares).distribute(holders);
    }

    /// @dev Income outside settlement (energy, cancellations) split like delivered value: fees, then holders.
    function _splitIncome(uint256 assetId, AssetTerms memory t, uint256 amount)
        private
        returns (uint256 protocolFee, uint256 operatorFee, uint256 holders)
    {
        protocolFee = amount * t.protocolFeeBps / BPS;
        operatorFee = amount * t.operatorFeeBps / BPS;
        // protocol + operator fee bps <= 7,000 < 10,000, so this cannot underflow
        holders = amount - protocolFee - operatorFee;
        _ledgers[assetId].holdersRevenue += holders.toUint128();
        if (protocolFee != 0) protocolFees += protocolFee;
        if (operatorFee != 0) _fees[t.operator] += operatorFee;
    }

    /// @dev A cancellation's charge: already held as escrow, now the asset's income.
    function _addIncome(uint256 assetId, AssetTerms memory t, uint256 amount) private {
        (,, uint256 holders) = _splitIncome(assetId, t, amount);
        if (holders != 0) ICapacityShares(t.shares).distribute(holders);
    }

    /// @inheritdoc ILeaseMarket
    function sweepSurplus() external returns (uint256 amount) {
        uint256 held = stablecoin.balanceOf(address(this));
        uint256 liabilities = _owed;
        amount = held > liabilities ? held - liabilities : 0;
        // slither-disable-next-line incorrect-equality (a difference of two totals, zero when nothing was sent)
        if (amount == 0) revert MarketNothingToSweep(held, liabilities);
        address treasury = registry.treasury();
        emit SurplusSwept(treasury, amount);
        stablecoin.safeTransfer(treasury, amount);
    }

    /// @inheritdoc ILeaseMarket
    function payHolderRevenue(uint256 assetId, address to, uint256 amount) external {
        if (msg.sender != _shares[assetId]) revert MarketOnlyShares(assetId, msg.sender);
        AssetLedger storage ledger = _ledgers[assetId];
        uint256 available = ledger.holdersRevenue;
        if (amount > available) revert MarketInsufficientHolderRevenue(assetId, amount, available);
        // amount <= available
        unchecked {
            ledger.holdersRevenue = uint128(available - amount);
        }
        _owed -= amount;
        stablecoin.safeTransfer(to, amount);
    }

    /// @inheritdoc ILeaseMarket
    function onAssetRegistered(uint256 assetId, address shares) external {
        if (msg.sender != address(registry)) revert MarketOnlyRegistry(msg.sender);
        _shares[assetId] = shares;
    }

    // ---------------------------------------------------------------- ERC-4907

    /// @inheritdoc IERC4907
    function setUser(uint256 tokenId, address user, uint64 expires) external {
        // a frozen lessee cannot hand the lease's use (paid from its escrow) to another address either
        _requireNotFrozen(_requireLeaseOwner(tokenId));
        _users[tokenId] = UserInfo({user: user, expires: expires});
        emit UpdateUser(tokenId, user, expires);
    }

    /// @inheritdoc IERC4907
    function userOf(uint256 tokenId) external view returns (address) {
        UserInfo memory u = _users[tokenId];
        return u.expires >= block.timestamp ? u.user : address(0);
    }

    /// @inheritdoc IERC4907
    function userExpires(uint256 tokenId) external view returns (uint256) {
        return _users[tokenId].expires;
    }

    /// @dev A transfer of the position clears its user (ERC-4907). Neither side of a transfer may be frozen
    ///      by the issuer (a frozen lessee would hand its escrow to a fresh address).
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0)) {
            _requireNotFrozen(from);
            _requireNotFrozen(to);
        }
        if (from != to && _users[tokenId].user != address(0)) {
            delete _users[tokenId];
            emit UpdateUser(tokenId, address(0), 0);
        }
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IERC4907).interfaceId || interfaceId == type(ILeaseMarket).interfaceId
            || super.supportsInterface(interfaceId);
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

    function leaseOf(uint256 leaseId) external view returns (Lease memory) {
        return _leases[leaseId];
    }

    function ledgerOf(uint256 assetId) external view returns (AssetLedger memory) {
        return _ledgers[assetId];
    }

    function epochIndexOf(uint256 assetId, uint64 epoch) external view returns (EpochIndex memory) {
        return _indices[assetId][epoch];
    }

    function feesOf(address account) external view returns (uint256) {
        return _fees[account];
    }

    function availableGpus(uint256 assetId) external view returns (uint32) {
        return registry.terms(assetId).gpuCount - _ledgers[assetId].committedGpus;
    }

    function leaseCount() external view returns (uint256) {
        return _leaseCount;
    }

    /// @inheritdoc ILeaseMarket
    function owed() external view returns (uint256) {
        return _owed;
    }

    /// @inheritdoc ILeaseMarket
    function energyIncomeOf(uint256 assetId) external view returns (uint256 total, uint256 holders) {
        EnergyIncome memory income = _energyIncome[assetId];
        return (income.total, income.holders);
    }

    /// @dev The registry reads the issuer's blocklist (this contract is at the code-size limit).
    function _requireNotFrozen(address account) private view {
        if (registry.isFrozen(account)) revert StablecoinAccountFrozen(account);
    }

    function _currentEpoch(AssetTerms memory t) private view returns (uint64) {
        return uint64((block.timestamp - t.genesis) / t.epochLength);
    }

    function _requireLeaseOwner(uint256 leaseId) private view returns (address owner) {
        owner = _ownerOf(leaseId);
        if (owner == address(0) || !_isAuthorized(owner, msg.sender, leaseId)) {
            revert MarketNotLeaseOwner(leaseId, msg.sender);
        }
    }
}
