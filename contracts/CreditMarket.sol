// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AssetStatus, ICapacityRegistry} from "./interfaces/ICapacityRegistry.sol";
import {ICapacityShares} from "./interfaces/ICapacityShares.sol";
import {CollateralParams, ICreditMarket, Position, RateCurve} from "./interfaces/ICreditMarket.sol";
import {INavOracle, INavOracleFactory} from "./interfaces/INavOracle.sol";

/// @title CreditMarket
/// @notice See {ICreditMarket}.
/// @dev Rounding: debt rounds up and repayments burn rounded-down debt shares; collateral value, seized
///      collateral and revenue credited to positions round down; interest rounds up. Every stablecoin
///      unit this contract holds is `idle` (the lenders'), a borrower's `surplus`, or collected collateral
///      revenue not yet credited to a position (`unallocated`, which only rounding dust outlives).
contract CreditMarket is ICreditMarket, ERC4626, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    bytes32 public constant LISTER_ROLE = keccak256("LISTER_ROLE");

    uint256 private constant BPS = 10_000;
    uint256 private constant WAD = 1e18;
    uint256 private constant SHARE = 1e18; // one whole capacity share; NAV prices are per whole share
    uint256 private constant ACC_SCALE = 1e36;
    uint256 private constant YEAR = 365 days;
    uint256 private constant VIRTUAL_BORROW_SHARES = 1e6; // debt shares per unit, against inflation
    uint256 private constant VIRTUAL_BORROW_ASSETS = 1;
    uint16 private constant MAX_BONUS_BPS = 2_000;
    uint16 private constant MIN_CLOSE_FACTOR_BPS = 1_000;
    uint32 private constant MAX_RATE_BPS = 1_000_000; // 10,000 % a year at full utilization

    /// @dev One slot: the risk parameters and the feed; a second for the shares token.
    struct Collateral {
        CollateralParams params;
        address feed;
        address shares;
    }

    /// @dev The collateral revenue of one asset: collected from its shares, credited to positions.
    struct CollateralRevenue {
        uint128 totalCollateral;
        uint128 unallocated; // collected, not yet credited to a position
        uint256 perCollateral; // accumulator, scale 1e36 per collateral unit
    }

    ICapacityRegistry public immutable registry;
    INavOracleFactory public immutable navFactory;
    IERC20 private immutable _stablecoin;
    uint256 public immutable minDebt;
    uint16 private immutable _baseBps;
    uint16 private immutable _kinkBps;
    uint32 private immutable _slope1Bps;
    uint32 private immutable _slope2Bps;

    uint128 private _totalBorrowAssets;
    uint128 private _totalBorrowShares;
    uint128 private _idle;
    uint64 private _lastAccrual;
    uint256 public override badDebt;
    mapping(uint256 assetId => Collateral) private _collateral;
    mapping(uint256 assetId => CollateralRevenue) private _revenue;
    mapping(uint256 assetId => mapping(address borrower => Position)) private _positions;

    constructor(
        address admin,
        ICapacityRegistry registry_,
        INavOracleFactory navFactory_,
        RateCurve memory curve,
        uint256 minDebt_,
        string memory name_,
        string memory symbol_
    ) ERC20(name_, symbol_) ERC4626(IERC20(registry_.stablecoin())) {
        if (
            curve.kinkBps == 0 || curve.kinkBps >= BPS
                || uint256(curve.baseBps) + curve.slope1Bps + curve.slope2Bps > MAX_RATE_BPS
        ) revert CreditInvalidRateCurve(curve);
        registry = registry_;
        navFactory = navFactory_;
        _stablecoin = IERC20(registry_.stablecoin());
        minDebt = minDebt_;
        _baseBps = curve.baseBps;
        _kinkBps = curve.kinkBps;
        _slope1Bps = curve.slope1Bps;
        _slope2Bps = curve.slope2Bps;
        _lastAccrual = uint64(block.timestamp);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(LISTER_ROLE, admin);
    }

    // ---------------------------------------------------------------- listing

    /// @inheritdoc ICreditMarket
    function listCollateral(uint256 assetId, CollateralParams calldata p) external onlyRole(LISTER_ROLE) {
        if (_collateral[assetId].feed != address(0)) revert CreditAlreadyListed(assetId);
        address feed = navFactory.oracleOf(assetId);
        if (feed == address(0)) revert CreditNoFeed(assetId);
        // 0 < LTV < threshold, and a liquidation at the threshold must leave the position healthier:
        // threshold x (1 + bonus) < 1.
        if (
            p.ltvBps == 0 || p.ltvBps >= p.liquidationThresholdBps || p.liquidationBonusBps == 0
                || p.liquidationBonusBps > MAX_BONUS_BPS
                || uint256(p.liquidationThresholdBps) * (BPS + p.liquidationBonusBps) >= BPS * BPS
                || p.closeFactorBps < MIN_CLOSE_FACTOR_BPS || p.closeFactorBps > BPS
        ) revert CreditInvalidCollateralParams(p);
        _collateral[assetId] = Collateral({params: p, feed: feed, shares: INavOracle(feed).shares()});
        emit CollateralListed(assetId, feed, p);
    }

    // ---------------------------------------------------------------- borrowers

    /// @inheritdoc ICreditMarket
    function depositCollateral(uint256 assetId, uint256 shares, address borrower) external nonReentrant {
        if (shares == 0) revert CreditZeroAmount();
        Collateral storage c = _listed(assetId);
        _accrue();
        (Position storage pos, uint256 collected) = _settle(assetId, c.shares, borrower);
        pos.collateral += shares.toUint128();
        _revenue[assetId].totalCollateral += shares.toUint128();
        emit CollateralDeposited(assetId, borrower, msg.sender, shares);
        _claimCollected(c.shares, collected);
        IERC20(c.shares).safeTransferFrom(msg.sender, address(this), shares);
    }

    /// @inheritdoc ICreditMarket
    function withdrawCollateral(uint256 assetId, uint256 shares, address to) external nonReentrant {
        if (shares == 0) revert CreditZeroAmount();
        Collateral storage c = _listed(assetId);
        _accrue();
        (Position storage pos, uint256 collected) = _settle(assetId, c.shares, msg.sender);
        uint256 held = pos.collateral;
        if (shares > held) revert CreditInsufficientCollateral(shares, held);
        _removeCollateral(assetId, pos, shares);
        if (pos.borrowShares != 0) _requireWithinLtv(assetId, c, pos, _debtUp(pos.borrowShares));
        emit CollateralWithdrawn(assetId, msg.sender, to, shares);
        _claimCollected(c.shares, collected);
        IERC20(c.shares).safeTransfer(to, shares);
    }

    /// @inheritdoc ICreditMarket
    function borrow(uint256 assetId, uint256 amount, address to) external nonReentrant returns (uint256 borrowShares) {
        if (amount == 0) revert CreditZeroAmount();
        Collateral storage c = _listed(assetId);
        if (registry.terms(assetId).status != AssetStatus.Active) revert CreditAssetNotActive(assetId);
        _accrue();
        (Position storage pos, uint256 collected) = _settle(assetId, c.shares, msg.sender);
        uint256 available = _idle;
        if (amount > available) revert CreditInsufficientLiquidity(amount, available);

        borrowShares = _toSharesUp(amount);
        uint256 debt = _debtUp(pos.borrowShares) + amount;
        if (debt < minDebt) revert CreditDebtBelowMinimum(debt, minDebt);
        _requireWithinLtv(assetId, c, pos, debt);
        pos.borrowShares += borrowShares.toUint128();
        _totalBorrowShares += borrowShares.toUint128();
        _totalBorrowAssets += amount.toUint128();
        // amount <= available, checked above
        unchecked {
            _idle = uint128(available - amount);
        }
        emit Borrowed(assetId, msg.sender, to, amount, borrowShares);
        _claimCollected(c.shares, collected);
        _stablecoin.safeTransfer(to, amount);
    }

    /// @inheritdoc ICreditMarket
    function repay(uint256 assetId, uint256 amount, address borrower) external nonReentrant returns (uint256 repaid) {
        if (amount == 0) revert CreditZeroAmount();
        Collateral storage c = _listed(assetId);
        _accrue();
        (Position storage pos, uint256 collected) = _settle(assetId, c.shares, borrower);
        uint256 debt = _debtUp(pos.borrowShares);
        if (amount == type(uint256).max) amount = debt;
        else if (amount > debt) revert CreditRepayExceedsDebt(amount, debt);
        // slither-disable-next-line incorrect-equality (nothing left to repay once revenue repaid it all)
        if (amount == 0) revert CreditRepayExceedsDebt(amount, debt);
        uint256 burned = _reduceDebt(pos, amount, debt);
        uint256 left = debt - amount;
        if (left != 0 && left < minDebt) revert CreditDebtBelowMinimum(left, minDebt);
        repaid = amount;
        emit Repaid(assetId, borrower, msg.sender, amount, burned);
        _claimCollected(c.shares, collected);
        _stablecoin.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ICreditMarket
    function liquidate(uint256 assetId, address borrower, uint256 repayAmount, address to)
        external
        nonReentrant
        returns (uint256 seized)
    {
        if (repayAmount == 0) revert CreditZeroAmount();
        Collateral storage c = _listed(assetId);
        _accrue();
        (Position storage pos, uint256 collected) = _settle(assetId, c.shares, borrower);
        uint256 repaid;
        uint256 price;
        uint256 writtenOff;
        (seized, repaid, price, writtenOff) = _liquidate(assetId, borrower, c, pos, repayAmount);
        emit Liquidated(assetId, borrower, msg.sender, repaid, seized, price, writtenOff);
        _claimCollected(c.shares, collected);
        if (repaid != 0) _stablecoin.safeTransferFrom(msg.sender, address(this), repaid);
        IERC20(c.shares).safeTransfer(to, seized);
    }

    /// @dev The state changes of a liquidation: checks, debt repaid, collateral taken, bad debt written off.
    function _liquidate(
        uint256 assetId,
        address borrower,
        Collateral storage c,
        Position storage pos,
        uint256 repayAmount
    ) private returns (uint256 seized, uint256 repaid, uint256 price, uint256 writtenOff) {
        uint256 debt = _debtUp(pos.borrowShares);
        // Liquidation reads the latest recorded price even when the feed is stale: a stale feed must not
        // shield a position from liquidation (anyone can finalize epochs and update the feed first).
        // slither-disable-next-line unused-return (staleness deliberately ignored, see above)
        (price,,) = INavOracle(c.feed).latestPrice();
        CollateralParams memory p = c.params;
        uint256 value = _value(pos.collateral, price);
        // slither-disable-next-line incorrect-equality (a debt computed from shares, not a balance)
        if (debt == 0 || debt * BPS <= value * p.liquidationThresholdBps) {
            revert CreditPositionHealthy(assetId, borrower, _health(value, p, debt));
        }

        // Clamped rather than refused: a borrower repaying a little just before cannot make it revert.
        repaid = Math.min(repayAmount, _maxRepay(debt, value, p));
        seized = price == 0 ? pos.collateral : _seizable(repaid, price, p.liquidationBonusBps);
        if (seized >= pos.collateral) {
            // Take all of it, for what it is worth at the discount (rounded up: the liquidator pays).
            seized = pos.collateral;
            repaid = Math.min(
                repaid, Math.mulDiv(seized * price, BPS, SHARE * (BPS + p.liquidationBonusBps), Math.Rounding.Ceil)
            );
        }
        _reduceDebt(pos, repaid, debt);
        _removeCollateral(assetId, pos, seized);
        if (pos.collateral == 0 && pos.borrowShares != 0) writtenOff = _writeOff(pos);
    }

    /// @dev Once the collateral no longer covers the debt plus the bonus, the whole debt may be repaid.
    function _maxRepay(uint256 debt, uint256 value, CollateralParams memory p) private pure returns (uint256) {
        if (value * BPS < debt * (BPS + p.liquidationBonusBps)) return debt;
        return Math.mulDiv(debt, p.closeFactorBps, BPS, Math.Rounding.Ceil);
    }

    /// @dev `amount` must be at most the position's collateral (checked by every caller).
    function _removeCollateral(uint256 assetId, Position storage pos, uint256 amount) private {
        // amount <= the position's collateral, and the total is the sum of all positions' collateral
        unchecked {
            pos.collateral -= uint128(amount);
            _revenue[assetId].totalCollateral -= uint128(amount);
        }
    }

    /// @inheritdoc ICreditMarket
    function settle(uint256 assetId, address borrower) external nonReentrant {
        Collateral storage c = _listed(assetId);
        _accrue();
        (, uint256 collected) = _settle(assetId, c.shares, borrower);
        _claimCollected(c.shares, collected);
    }

    /// @inheritdoc ICreditMarket
    function claimSurplus(uint256 assetId, address to) external nonReentrant returns (uint256 amount) {
        Collateral storage c = _listed(assetId);
        _accrue();
        (Position storage pos, uint256 collected) = _settle(assetId, c.shares, msg.sender);
        amount = pos.surplus;
        if (amount == 0) revert CreditNothingToClaim(assetId, msg.sender);
        pos.surplus = 0;
        emit SurplusClaimed(assetId, msg.sender, to, amount);
        _claimCollected(c.shares, collected);
        _stablecoin.safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- collateral revenue

    /// @dev Accounts for the asset's shares revenue owed to this contract, then credits the position's
    ///      part of it: first to its debt, the rest to its surplus. The caller claims the `collected`
    ///      revenue from the shares (`_claimCollected`) after its own state changes, before paying out.
    function _settle(uint256 assetId, address sharesToken, address borrower)
        private
        returns (Position storage pos, uint256 collected)
    {
        CollateralRevenue storage r = _revenue[assetId];
        uint256 perCollateral;
        (perCollateral, collected) = _collect(assetId, sharesToken, r);
        pos = _positions[assetId][borrower];
        uint256 paid = pos.revenuePaid;
        // slither-disable-next-line incorrect-equality (accumulator values, not balances)
        if (paid == perCollateral) return (pos, collected);
        pos.revenuePaid = perCollateral;
        uint256 earned = Math.mulDiv(pos.collateral, perCollateral - paid, ACC_SCALE);
        if (earned == 0) return (pos, collected);
        // The credited total never exceeds the collected total: each position's share is rounded down
        // from its part of a total that was itself rounded down (checked arithmetic would catch a bug).
        r.unallocated -= uint128(earned);
        uint256 debt = _debtUp(pos.borrowShares);
        uint256 repaid = Math.min(earned, debt);
        if (repaid != 0) _reduceDebt(pos, repaid, debt);
        if (earned != repaid) pos.surplus += uint128(earned - repaid);
        emit RevenueApplied(assetId, borrower, earned, repaid);
    }

    function _collect(uint256 assetId, address sharesToken, CollateralRevenue storage r)
        private
        returns (uint256 perCollateral, uint256 pending)
    {
        perCollateral = r.perCollateral;
        pending = ICapacityShares(sharesToken).claimable(address(this));
        if (pending == 0) return (perCollateral, 0);
        uint256 total = r.totalCollateral;
        if (total == 0) {
            // Revenue of shares sent here outside a position belongs to no borrower: the lenders get it.
            _idle += pending.toUint128();
        } else {
            perCollateral += Math.mulDiv(pending, ACC_SCALE, total);
            r.perCollateral = perCollateral;
            r.unallocated += pending.toUint128();
        }
        emit RevenueCollected(assetId, pending, perCollateral);
    }

    /// @dev Brings in the revenue `_collect` accounted for: the shares pay exactly what they reported as
    ///      claimable in the same transaction.
    function _claimCollected(address sharesToken, uint256 collected) private {
        // slither-disable-next-line unused-return (the amount is `collected`, read just before)
        if (collected != 0) ICapacityShares(sharesToken).claim(address(this));
    }

    // ---------------------------------------------------------------- debt

    /// @dev Repays `amount` of a position whose debt is `debt`, into the idle liquidity.
    function _reduceDebt(Position storage pos, uint256 amount, uint256 debt) private returns (uint256 burned) {
        // slither-disable-next-line incorrect-equality (repaying the whole debt burns every share)
        burned = amount == debt ? pos.borrowShares : Math.min(_toSharesDown(amount), pos.borrowShares);
        pos.borrowShares -= uint128(burned);
        _totalBorrowShares -= uint128(burned);
        // A rounded-up debt can exceed the total by a unit when one position holds it all.
        uint256 total = _totalBorrowAssets;
        _totalBorrowAssets = uint128(total > amount ? total - amount : 0);
        _idle += amount.toUint128();
    }

    /// @dev Writes off a position's debt left without collateral against the lenders.
    function _writeOff(Position storage pos) private returns (uint256 amount) {
        uint256 burned = pos.borrowShares;
        amount = _debtUp(burned);
        uint256 total = _totalBorrowAssets;
        if (amount > total) amount = total;
        pos.borrowShares = 0;
        _totalBorrowShares -= uint128(burned);
        _totalBorrowAssets = uint128(total - amount);
        badDebt += amount;
    }

    function _accrue() private {
        uint256 elapsed = block.timestamp - _lastAccrual;
        // slither-disable-next-line incorrect-equality (timestamps)
        if (elapsed == 0) return;
        _lastAccrual = uint64(block.timestamp);
        uint256 borrowed = _totalBorrowAssets;
        // slither-disable-next-line incorrect-equality (the pool's own debt total, not a token balance)
        if (borrowed == 0) return;
        uint256 rate = _ratePerSecond(borrowed, _idle);
        uint256 interest = _interest(borrowed, rate, elapsed);
        uint256 total = borrowed + interest;
        _totalBorrowAssets = total.toUint128();
        emit InterestAccrued(interest, total, rate);
    }

    /// @dev Interest not yet accrued, as `_accrue` would add it now.
    function _pendingInterest() private view returns (uint256) {
        uint256 borrowed = _totalBorrowAssets;
        // slither-disable-next-line incorrect-equality (the pool's own debt total, not a token balance)
        if (borrowed == 0) return 0;
        return _interest(borrowed, _ratePerSecond(borrowed, _idle), block.timestamp - _lastAccrual);
    }

    /// @dev The one interest formula, for the accrual and for the views: linear over `elapsed`, rounded up.
    function _interest(uint256 borrowed, uint256 ratePerSecond, uint256 elapsed) private pure returns (uint256) {
        return Math.mulDiv(borrowed, ratePerSecond * elapsed, WAD, Math.Rounding.Ceil);
    }

    /// @dev The curve's annual rate at the pool's utilization, per second in WAD. Utilization stays a
    ///      fraction (borrowed / total) inside each product, so there is one division per term.
    function _ratePerSecond(uint256 borrowed, uint256 idle_) private view returns (uint256) {
        uint256 annualBpsWad = uint256(_baseBps) * WAD;
        uint256 total = borrowed + idle_;
        if (borrowed != 0) {
            uint256 kinkTimesTotal = uint256(_kinkBps) * total; // the kink's borrowed amount x BPS
            if (borrowed * BPS <= kinkTimesTotal) {
                annualBpsWad += Math.mulDiv(uint256(_slope1Bps) * borrowed * BPS, WAD, kinkTimesTotal);
            } else {
                annualBpsWad += uint256(_slope1Bps) * WAD
                + Math.mulDiv(uint256(_slope2Bps) * (borrowed * BPS - kinkTimesTotal), WAD, total * (BPS - _kinkBps));
            }
        }
        return annualBpsWad / (BPS * YEAR);
    }

    function _toSharesUp(uint256 assets) private view returns (uint256) {
        return Math.mulDiv(
            assets,
            _totalBorrowShares + VIRTUAL_BORROW_SHARES,
            _totalBorrowAssets + VIRTUAL_BORROW_ASSETS,
            Math.Rounding.Ceil
        );
    }

    function _toSharesDown(uint256 assets) private view returns (uint256) {
        return
            Math.mulDiv(assets, _totalBorrowShares + VIRTUAL_BORROW_SHARES, _totalBorrowAssets + VIRTUAL_BORROW_ASSETS);
    }

    /// @dev Debt of `shares`, rounded up, at the accrued totals.
    function _debtUp(uint256 shares) private view returns (uint256) {
        return _debtUp(shares, _totalBorrowAssets);
    }

    /// @dev Debt of `shares` when the pool owes `totalAssets`, rounded up.
    function _debtUp(uint256 shares, uint256 totalAssets_) private view returns (uint256) {
        if (shares == 0) return 0;
        return Math.mulDiv(
            shares, totalAssets_ + VIRTUAL_BORROW_ASSETS, _totalBorrowShares + VIRTUAL_BORROW_SHARES, Math.Rounding.Ceil
        );
    }

    // ---------------------------------------------------------------- health

    function _requireWithinLtv(uint256 assetId, Collateral storage c, Position storage pos, uint256 debt) private view {
        (uint256 price, uint64 epoch, bool stale) = INavOracle(c.feed).latestPrice();
        if (stale) revert CreditFeedStale(assetId, epoch);
        uint256 maxDebt = _value(pos.collateral, price) * c.params.ltvBps / BPS;
        if (debt > maxDebt) revert CreditExceedsLtv(debt, maxDebt);
    }

    function _value(uint256 collateral, uint256 pricePerShare) private pure returns (uint256) {
        return Math.mulDiv(collateral, pricePerShare, SHARE);
    }

    function _health(uint256 value, CollateralParams memory p, uint256 debt) private pure returns (uint256) {
        // slither-disable-next-line incorrect-equality (a debt computed from shares, not a balance)
        if (debt == 0) return type(uint256).max;
        return Math.mulDiv(value * p.liquidationThresholdBps, WAD, debt * BPS);
    }

    /// @dev Collateral worth `repayAmount` x (1 + bonus) at `price`, rounded down.
    function _seizable(uint256 repayAmount, uint256 price, uint16 bonusBps) private pure returns (uint256) {
        return Math.mulDiv(repayAmount * (BPS + bonusBps), SHARE, price * BPS);
    }

    function _listed(uint256 assetId) private view returns (Collateral storage c) {
        c = _collateral[assetId];
        if (c.feed == address(0)) revert CreditAssetNotListed(assetId);
    }

    // ---------------------------------------------------------------- ERC-4626 (lenders)

    /// @notice Idle stablecoin plus the borrowers' debt, interest included up to now.
    function totalAssets() public view override returns (uint256) {
        return uint256(_idle) + _totalBorrowAssets + _pendingInterest();
    }

    /// @notice Lenders can withdraw only what is not lent out.
    function maxWithdraw(address owner) public view override returns (uint256) {
        return Math.min(super.maxWithdraw(owner), _idle);
    }

    function maxRedeem(address owner) public view override returns (uint256) {
        return Math.min(super.maxRedeem(owner), _convertToShares(_idle, Math.Rounding.Floor));
    }

    /// @dev Previews already count pending interest (see totalAssets); accruing first keeps the state
    ///      consistent with them.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override nonReentrant {
        _accrue();
        _idle += assets.toUint128();
        super._deposit(caller, receiver, assets, shares);
    }

    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
        nonReentrant
    {
        _accrue();
        uint256 available = _idle;
        if (assets > available) revert CreditInsufficientLiquidity(assets, available);
        // assets <= available, checked above
        unchecked {
            _idle = uint128(available - assets);
        }
        super._withdraw(caller, receiver, owner, assets, shares);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ICreditMarket
    function positionOf(uint256 assetId, address borrower) external view returns (Position memory) {
        return _positions[assetId][borrower];
    }

    /// @inheritdoc ICreditMarket
    function debtOf(uint256 assetId, address borrower) public view returns (uint256) {
        Position storage pos = _positions[assetId][borrower];
        uint256 debt = _debtUp(pos.borrowShares, _totalBorrowAssets + _pendingInterest());
        uint256 earned = _unappliedRevenue(assetId, pos);
        return debt > earned ? debt - earned : 0;
    }

    /// @dev Collateral revenue the position's next settlement will apply, including revenue the shares
    ///      hold for this contract that has not been collected yet.
    function _unappliedRevenue(uint256 assetId, Position storage pos) private view returns (uint256) {
        CollateralRevenue storage r = _revenue[assetId];
        uint256 perCollateral = r.perCollateral;
        uint256 total = r.totalCollateral;
        address sharesToken = _collateral[assetId].shares;
        if (total != 0 && sharesToken != address(0)) {
            perCollateral += Math.mulDiv(ICapacityShares(sharesToken).claimable(address(this)), ACC_SCALE, total);
        }
        return Math.mulDiv(pos.collateral, perCollateral - pos.revenuePaid, ACC_SCALE);
    }

    /// @inheritdoc ICreditMarket
    function healthFactor(uint256 assetId, address borrower) external view returns (uint256) {
        Collateral storage c = _listed(assetId);
        // slither-disable-next-line unused-return (health is reported from the latest price, stale or not)
        (uint256 price,,) = INavOracle(c.feed).latestPrice();
        return _health(_value(_positions[assetId][borrower].collateral, price), c.params, debtOf(assetId, borrower));
    }

    /// @inheritdoc ICreditMarket
    function borrowCapacity(uint256 assetId, address borrower) external view returns (uint256) {
        Collateral storage c = _listed(assetId);
        // slither-disable-next-line unused-return (the epoch is not needed: stale means no capacity)
        (uint256 price,, bool stale) = INavOracle(c.feed).latestPrice();
        if (stale) return 0;
        uint256 maxDebt = _value(_positions[assetId][borrower].collateral, price) * c.params.ltvBps / BPS;
        uint256 debt = debtOf(assetId, borrower);
        return maxDebt > debt ? Math.min(maxDebt - debt, _idle) : 0;
    }

    function collateralParams(uint256 assetId) external view returns (CollateralParams memory) {
        return _collateral[assetId].params;
    }

    function feedOf(uint256 assetId) external view returns (address) {
        return _collateral[assetId].feed;
    }

    function totalBorrowed() external view returns (uint256) {
        return _totalBorrowAssets + _pendingInterest();
    }

    function idle() external view returns (uint256) {
        return _idle;
    }

    function utilizationBps() external view returns (uint256) {
        uint256 borrowed = _totalBorrowAssets;
        // slither-disable-next-line incorrect-equality (the pool's own debt total, not a token balance)
        return borrowed == 0 ? 0 : borrowed * BPS / (borrowed + _idle);
    }

    function borrowRatePerSecond() external view returns (uint256) {
        return _ratePerSecond(_totalBorrowAssets, _idle);
    }

    /// @notice Collateral revenue collected but not yet credited to positions, and the asset's total collateral.
    function collateralRevenue(uint256 assetId) external view returns (CollateralRevenue memory) {
        return _revenue[assetId];
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ICreditMarket).interfaceId || super.supportsInterface(interfaceId);
    }
}
