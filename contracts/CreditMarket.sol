// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AssetStatus, ICapacityRegistry} from "./interfaces/ICapacityRegistry.sol";
import {ICapacityShares} from "./interfaces/ICapacityShares.sol";
import {Caps, CollateralParams, ICreditMarket, Position, RateCurve} from "./interfaces/ICreditMarket.sol";
import {INavOracle, INavOracleFactory, NavParams} from "./interfaces/INavOracle.sol";
import {CreditLib} from "./libraries/CreditLib.sol";
import {LendingPool} from "./LendingPool.sol";
import {StablecoinLib} from "./libraries/StablecoinLib.sol";

/// @title CreditMarket
/// @notice See {ICreditMarket}.
/// @dev Rounding: see {LendingPool} and {CreditLib}; revenue credited to positions rounds down. Every
///      stablecoin unit this contract holds is `idle` (the lenders'), a borrower's `surplus`, collected
///      collateral revenue not yet credited to a position (`unallocated`, which only rounding dust
///      outlives), or `strayRevenue` (the treasury's).
contract CreditMarket is ICreditMarket, LendingPool {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    uint256 private constant SHARE = 1e18; // one whole capacity share; NAV prices are per whole share
    uint256 private constant ACC_SCALE = 1e36;

    /// @dev One slot: the risk parameters and the feed; a second for the shares token and the asset's
    ///      debt shares (96 bits: 1e6 debt shares a unit, so 7.9e22 units of debt, far past any cap).
    struct Collateral {
        CollateralParams params;
        address feed;
        address shares;
        uint96 borrowShares;
    }

    /// @dev The collateral revenue of one asset: collected from its shares, credited to positions.
    struct CollateralRevenue {
        uint128 totalCollateral;
        uint128 unallocated; // collected, not yet credited to a position
        uint256 perCollateral; // accumulator, scale 1e36 per collateral unit
    }

    ICapacityRegistry public immutable registry;
    INavOracleFactory public immutable navFactory;

    uint256 public override strayRevenue;
    mapping(uint256 assetId => Collateral) private _collateral;
    mapping(uint256 assetId => CollateralRevenue) private _revenue;
    mapping(uint256 assetId => Caps) private _caps;
    mapping(uint256 assetId => mapping(address borrower => Position)) private _positions;

    constructor(
        address admin,
        ICapacityRegistry registry_,
        INavOracleFactory navFactory_,
        RateCurve memory curve,
        uint256 minDebt_,
        string memory name_,
        string memory symbol_
    ) ERC20(name_, symbol_) LendingPool(admin, IERC20(registry_.stablecoin()), curve, minDebt_, registry_.blocklist()) {
        registry = registry_;
        navFactory = navFactory_;
    }

    // ---------------------------------------------------------------- listing

    /// @inheritdoc ICreditMarket
    function listCollateral(uint256 assetId, CollateralParams calldata p, Caps calldata caps)
        external
        onlyRole(LISTER_ROLE)
    {
        if (_collateral[assetId].feed != address(0)) revert CreditAlreadyListed(assetId);
        address feed = navFactory.oracleOf(assetId);
        if (feed == address(0)) revert CreditNoFeed(assetId);
        if (!CreditLib.isValid(p)) revert CreditInvalidCollateralParams(p);
        address sharesToken = INavOracle(feed).shares();
        if (ICapacityShares(sharesToken).restricted()) revert CreditCollateralNotSeizable(assetId);
        NavParams memory n = INavOracle(feed).params();
        // LTV x M < K: S spent on leases lifts the borrowable value by at most LTV x M / K x S < S
        if (uint256(p.ltvBps) * n.lendingLifeWindows >= BPS * n.trackRecordWindows) {
            revert CreditLtvTooHighForFeed(p.ltvBps, n.lendingLifeWindows, n.trackRecordWindows);
        }
        _collateral[assetId] = Collateral({params: p, feed: feed, shares: sharesToken, borrowShares: 0});
        emit CollateralListed(assetId, feed, p);
        _setCaps(assetId, caps);
    }

    /// @inheritdoc ICreditMarket
    function setCaps(uint256 assetId, Caps calldata caps) external onlyRole(LISTER_ROLE) {
        _listed(assetId);
        _setCaps(assetId, caps);
    }

    function _setCaps(uint256 assetId, Caps calldata caps) private {
        _caps[assetId] = caps;
        emit CapsSet(assetId, caps);
    }

    /// @inheritdoc ICreditMarket
    function sweepStrayRevenue() external nonReentrant returns (uint256 amount) {
        amount = strayRevenue;
        if (amount == 0) revert CreditZeroAmount();
        strayRevenue = 0;
        address treasury = registry.protocolParams().treasury;
        emit StrayRevenueSwept(treasury, amount);
        _stablecoin.safeTransfer(treasury, amount);
    }

    // ---------------------------------------------------------------- borrowers

    /// @inheritdoc ICreditMarket
    // slither-disable-next-line reentrancy-no-eth (first call: the asset's own shares pay its revenue; nonReentrant)
    function depositCollateral(uint256 assetId, uint256 shares, address borrower) external nonReentrant {
        if (shares == 0) revert CreditZeroAmount();
        Collateral storage c = _listed(assetId);
        _accrue();
        Position storage pos = _settle(assetId, c.shares, borrower, true);
        CollateralRevenue storage r = _revenue[assetId];
        uint256 total = r.totalCollateral + shares;
        uint256 cap = _caps[assetId].supplyCap;
        if (total > cap) revert CreditSupplyCapExceeded(total, cap);
        pos.collateral += shares.toUint128();
        r.totalCollateral = total.toUint128();
        emit CollateralDeposited(assetId, borrower, msg.sender, shares);
        IERC20(c.shares).safeTransferFrom(msg.sender, address(this), shares);
    }

    /// @inheritdoc ICreditMarket
    // slither-disable-next-line reentrancy-no-eth (first call: the asset's own NavOracle records its round; nonReentrant)
    function withdrawCollateral(uint256 assetId, uint256 shares, address to) external nonReentrant {
        if (shares == 0) revert CreditZeroAmount();
        Collateral storage c = _listed(assetId);
        if (to != msg.sender) _requireNotFrozen(msg.sender); // paid to itself, its value stays frozen
        _recordNewestRound(c.feed);
        _accrue();
        Position storage pos = _settle(assetId, c.shares, msg.sender, true);
        uint256 held = pos.collateral;
        if (shares > held) revert CreditInsufficientCollateral(shares, held);
        _removeCollateral(assetId, pos, shares);
        if (pos.borrowShares != 0) _requireWithinLtv(assetId, c, pos, _debtUp(pos.borrowShares));
        emit CollateralWithdrawn(assetId, msg.sender, to, shares);
        IERC20(c.shares).safeTransfer(to, shares);
    }

    /// @inheritdoc ICreditMarket
    // slither-disable-next-line reentrancy-no-eth (first call: the asset's own NavOracle records its round; nonReentrant)
    function borrow(uint256 assetId, uint256 amount, address to) external nonReentrant returns (uint256 borrowShares) {
        if (amount == 0) revert CreditZeroAmount();
        Collateral storage c = _listed(assetId);
        if (registry.terms(assetId).status != AssetStatus.Active) revert CreditAssetNotActive(assetId);
        if (to != msg.sender) _requireNotFrozen(msg.sender); // paid to itself, its value stays frozen
        _recordNewestRound(c.feed);
        _accrue();
        Position storage pos = _settle(assetId, c.shares, msg.sender, false);
        uint256 debt = _debtUp(pos.borrowShares) + amount;
        if (debt < minDebt) revert CreditDebtBelowMinimum(debt, minDebt);
        _requireWithinLtv(assetId, c, pos, debt);
        borrowShares = _lend(amount);
        uint256 assetShares = c.borrowShares + borrowShares;
        uint256 assetDebt_ = _debtUp(assetShares);
        uint256 cap = _caps[assetId].borrowCap;
        if (assetDebt_ > cap) revert CreditBorrowCapExceeded(assetDebt_, cap);
        c.borrowShares = assetShares.toUint96();
        pos.borrowShares += borrowShares.toUint128();
        emit Borrowed(assetId, msg.sender, to, amount, borrowShares);
        _stablecoin.safeTransfer(to, amount);
    }

    /// @inheritdoc ICreditMarket
    // slither-disable-next-line reentrancy-no-eth (first call: the asset's own shares pay its revenue; nonReentrant)
    function repay(uint256 assetId, uint256 amount, address borrower) external nonReentrant returns (uint256 repaid) {
        if (amount == 0) revert CreditZeroAmount();
        Collateral storage c = _listed(assetId);
        _accrue();
        Position storage pos = _settle(assetId, c.shares, borrower, false);
        uint256 debt = _debtUp(pos.borrowShares);
        if (amount == type(uint256).max) amount = debt;
        else if (amount > debt) revert CreditRepayExceedsDebt(amount, debt);
        // slither-disable-next-line incorrect-equality (nothing left to repay once revenue repaid it all)
        if (amount == 0) revert CreditRepayExceedsDebt(amount, debt);
        uint256 burned = _reduceDebt(assetId, pos, amount, debt);
        uint256 left = debt - amount;
        if (left != 0 && left < minDebt) revert CreditDebtBelowMinimum(left, minDebt);
        repaid = amount;
        emit Repaid(assetId, borrower, msg.sender, amount, burned);
        StablecoinLib.pullExact(_stablecoin, msg.sender, amount);
    }

    /// @inheritdoc ICreditMarket
    // slither-disable-next-line reentrancy-no-eth (first call: the asset's own NavOracle records its round; nonReentrant)
    function liquidate(uint256 assetId, address borrower, uint256 repayAmount, address to)
        external
        nonReentrant
        returns (uint256 seized)
    {
        if (repayAmount == 0) revert CreditZeroAmount();
        Collateral storage c = _listed(assetId);
        _recordNewestRound(c.feed);
        _accrue();
        Position storage pos = _settle(assetId, c.shares, borrower, false);
        uint256 repaid;
        uint256 price;
        uint256 writtenOff;
        (seized, repaid, price, writtenOff) = _liquidate(assetId, borrower, c, pos, repayAmount);
        emit Liquidated(assetId, borrower, msg.sender, repaid, seized, price, writtenOff);
        if (repaid != 0) StablecoinLib.pullExact(_stablecoin, msg.sender, repaid);
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
        price = _liquidationPrice(c.feed);
        uint256 debt = _debtUp(pos.borrowShares);
        CollateralParams memory p = c.params;
        uint256 value = CreditLib.valueOf(pos.collateral, price, SHARE);
        if (!CreditLib.isLiquidatable(debt, value, p.liquidationThresholdBps)) {
            revert CreditPositionHealthy(assetId, borrower, CreditLib.health(value, p.liquidationThresholdBps, debt));
        }
        (repaid, seized) = CreditLib.liquidation(debt, pos.collateral, price, SHARE, p, repayAmount);
        if (repaid != 0) _reduceDebt(assetId, pos, repaid, debt);
        _removeCollateral(assetId, pos, seized);
        if (pos.collateral == 0 && pos.borrowShares != 0) writtenOff = _writeOffPosition(assetId, pos);
    }

    /// @dev Liquidations wait out the grace after a stablecoin pause or the feed's recovery. The latest lending
    ///      price counts even when the feed is stale: a stale feed must not shield a position (anyone can
    ///      finalize epochs and update the feed first).
    function _liquidationPrice(address feedAddress) private view returns (uint256 price) {
        INavOracle feed = INavOracle(feedAddress);
        _requireNoGrace(_graceAfter(feed.recoveredAt()));
        // slither-disable-next-line unused-return (staleness and seasoning deliberately ignored, see above)
        (price,,,) = feed.lendingPrice();
    }

    function _writeOffPosition(uint256 assetId, Position storage pos) private returns (uint256 amount) {
        uint256 burned = pos.borrowShares;
        amount = _writeOff(burned);
        pos.borrowShares = 0;
        _collateral[assetId].borrowShares -= uint96(burned); // part of the asset's total
    }

    /// @dev `amount` must be at most the position's collateral (checked by every caller).
    function _removeCollateral(uint256 assetId, Position storage pos, uint256 amount) private {
        // amount <= the position's collateral, and the total is the sum of all positions' collateral
        unchecked {
            pos.collateral -= uint128(amount);
            _revenue[assetId].totalCollateral -= uint128(amount);
        }
    }

    /// @dev Repays `amount` of the position's `debt`; the pool's and the asset's debt shares go down together.
    function _reduceDebt(uint256 assetId, Position storage pos, uint256 amount, uint256 debt)
        private
        returns (uint256 burned)
    {
        burned = _repayDebt(pos.borrowShares, amount, debt);
        pos.borrowShares -= uint128(burned);
        _collateral[assetId].borrowShares -= uint96(burned); // part of the asset's total
    }

    /// @inheritdoc ICreditMarket
    function settle(uint256 assetId, address borrower) external nonReentrant {
        Collateral storage c = _listed(assetId);
        _accrue();
        _settle(assetId, c.shares, borrower, false);
    }

    /// @inheritdoc ICreditMarket
    function claimSurplus(uint256 assetId, address to) external nonReentrant returns (uint256 amount) {
        Collateral storage c = _listed(assetId);
        if (to != msg.sender) _requireNotFrozen(msg.sender); // paid to itself, its value stays frozen
        _accrue();
        Position storage pos = _settle(assetId, c.shares, msg.sender, false);
        amount = pos.surplus;
        if (amount == 0) revert CreditNothingToClaim(assetId, msg.sender);
        pos.surplus = 0;
        emit SurplusClaimed(assetId, msg.sender, to, amount);
        _stablecoin.safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- collateral revenue

    /// @dev Collects the asset's shares revenue owed to this contract (when the LeaseMarket can pay it),
    ///      then credits the position's part of what was collected: first to its debt, the rest to its
    ///      surplus.
    /// @param collateralMoves the caller changes the asset's collateral (a deposit or a withdrawal): then the
    ///        pending revenue must be collected first, or it would later be shared by collateral that did not
    ///        earn it (CreditRevenueUncollectable). Liquidations go on regardless: see {_collect}.
    // slither-disable-next-line reentrancy-no-eth (the claim in _collect is the asset's own shares; callers are nonReentrant)
    function _settle(uint256 assetId, address sharesToken, address borrower, bool collateralMoves)
        private
        returns (Position storage pos)
    {
        CollateralRevenue storage r = _revenue[assetId];
        uint256 perCollateral = _collect(assetId, sharesToken, r, collateralMoves);
        pos = _positions[assetId][borrower];
        uint256 paid = pos.revenuePaid;
        // slither-disable-next-line incorrect-equality (accumulator values, not balances)
        if (paid == perCollateral) return pos;
        pos.revenuePaid = perCollateral;
        uint256 earned = Math.mulDiv(pos.collateral, perCollateral - paid, ACC_SCALE);
        if (earned == 0) return pos;
        // The credited total never exceeds the collected total: each position's share is rounded down
        // from its part of a total that was itself rounded down (checked arithmetic would catch a bug).
        r.unallocated -= uint128(earned);
        uint256 debt = _debtUp(pos.borrowShares);
        uint256 repaid = Math.min(earned, debt);
        if (repaid != 0) _reduceDebt(assetId, pos, repaid, debt);
        if (earned != repaid) pos.surplus += uint128(earned - repaid);
        emit RevenueApplied(assetId, borrower, earned, repaid);
    }

    /// @dev Claims the revenue first and counts only what arrived: when the LeaseMarket cannot pay (the
    ///      issuer froze it, or the token is paused) the revenue stays owed to this contract and is collected
    ///      later, and borrowing, repaying, liquidating and settling loans go on without it. Collateral
    ///      deposits and withdrawals wait (`required`): the revenue is shared by the collateral present when
    ///      it is collected. A liquidation meanwhile leaves the seized collateral's share of it to the
    ///      asset's other positions (at most the revenue of the outage on the seized shares). The claim is a call to the
    ///      asset's own shares (created by the registry's factory), which pays through the LeaseMarket; every
    ///      entry point is nonReentrant.
    // slither-disable-next-line reentrancy-no-eth,reentrancy-benign,reentrancy-events
    function _collect(uint256 assetId, address sharesToken, CollateralRevenue storage r, bool required)
        private
        returns (uint256 perCollateral)
    {
        perCollateral = r.perCollateral;
        uint256 pending = ICapacityShares(sharesToken).claimable(address(this));
        if (pending == 0) return perCollateral;
        try ICapacityShares(sharesToken).claim(address(this)) returns (uint256 claimed) {
            pending = claimed;
        } catch {
            if (required) revert CreditRevenueUncollectable(assetId, pending);
            return perCollateral;
        }
        uint256 total = r.totalCollateral;
        if (total == 0) {
            // Revenue of shares sent here outside any position belongs to no borrower and never to the
            // lenders (it would move the vault's price): the protocol treasury's.
            strayRevenue += pending;
        } else {
            // Shares sent here outside a position earn for the asset's positions (a gift to borrowers).
            perCollateral += Math.mulDiv(pending, ACC_SCALE, total);
            r.perCollateral = perCollateral;
            r.unallocated += pending.toUint128();
        }
        emit RevenueCollected(assetId, pending, perCollateral);
    }

    // ---------------------------------------------------------------- health

    /// @dev Records the feed's round for the newest finalized epoch, if it has not been, before anything else
    ///      (the feed is the asset's NavOracle, created by the protocol's factory; it calls only the LeaseMarket).
    function _recordNewestRound(address feed) private {
        // slither-disable-next-line unused-return (whether a round was recorded does not matter here)
        INavOracle(feed).update();
    }

    /// @dev New debt needs a fresh, seasoned lending price (the caller recorded the newest round first).
    function _requireWithinLtv(uint256 assetId, Collateral storage c, Position storage pos, uint256 debt) private view {
        (uint256 price, uint64 epoch, bool stale, bool seasoned) = INavOracle(c.feed).lendingPrice();
        if (stale) revert CreditFeedStale(assetId, epoch);
        if (!seasoned) revert CreditFeedYoung(assetId, epoch);
        uint256 maxDebt = CreditLib.maxDebt(CreditLib.valueOf(pos.collateral, price, SHARE), c.params.ltvBps);
        if (debt > maxDebt) revert CreditExceedsLtv(debt, maxDebt);
    }

    function _listed(uint256 assetId) private view returns (Collateral storage c) {
        c = _collateral[assetId];
        if (c.feed == address(0)) revert CreditAssetNotListed(assetId);
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
        (uint256 price,,,) = INavOracle(c.feed).lendingPrice();
        uint256 value = CreditLib.valueOf(_positions[assetId][borrower].collateral, price, SHARE);
        return CreditLib.health(value, c.params.liquidationThresholdBps, debtOf(assetId, borrower));
    }

    /// @inheritdoc ICreditMarket
    function borrowCapacity(uint256 assetId, address borrower) external view returns (uint256) {
        Collateral storage c = _listed(assetId);
        // slither-disable-next-line unused-return (the epoch is not needed: stale or young means no capacity)
        (uint256 price,, bool stale, bool seasoned) = INavOracle(c.feed).lendingPrice();
        if (stale || !seasoned) return 0;
        uint256 maxDebt = CreditLib.maxDebt(
            CreditLib.valueOf(_positions[assetId][borrower].collateral, price, SHARE), c.params.ltvBps
        );
        uint256 debt = debtOf(assetId, borrower);
        uint256 cap = _caps[assetId].borrowCap;
        uint256 used = assetDebt(assetId);
        uint256 capLeft = cap > used ? cap - used : 0;
        return maxDebt > debt ? Math.min(Math.min(maxDebt - debt, _idle), capLeft) : 0;
    }

    function collateralParams(uint256 assetId) external view returns (CollateralParams memory) {
        return _collateral[assetId].params;
    }

    function feedOf(uint256 assetId) external view returns (address) {
        return _collateral[assetId].feed;
    }

    function capsOf(uint256 assetId) external view returns (Caps memory) {
        return _caps[assetId];
    }

    /// @inheritdoc ICreditMarket
    function assetDebt(uint256 assetId) public view returns (uint256) {
        return _debtUp(_collateral[assetId].borrowShares, _totalBorrowAssets + _pendingInterest());
    }

    /// @notice Collateral revenue collected but not yet credited to positions, and the asset's total collateral.
    function collateralRevenue(uint256 assetId) external view returns (CollateralRevenue memory) {
        return _revenue[assetId];
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ICreditMarket).interfaceId || super.supportsInterface(interfaceId);
    }
}
