// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ILendingPool, RateCurve} from "./interfaces/ILendingPool.sol";
import {Blocklist} from "./interfaces/IStablecoinGuard.sol";
import {Constants} from "./libraries/Constants.sol";
import {SharesMathLib} from "./libraries/SharesMathLib.sol";
import {StablecoinLib} from "./libraries/StablecoinLib.sol";

/// @notice What a pausable stablecoin (Circle's FiatToken, OpenZeppelin's Pausable) answers.
interface IPausableToken {
    function paused() external view returns (bool);
}

/// @title LendingPool
/// @notice See {ILendingPool}. The lenders' vault, interest and debt bookkeeping of a credit market; the
///         market that inherits it holds the collateral and decides who may borrow.
/// @dev Rounding: debt rounds up, repayments burn rounded-down debt shares, interest rounds down (see `_interest`), vault
///      shares round as ERC-4626 prescribes (against the caller).
abstract contract LendingPool is ILendingPool, ERC4626, AccessControl, ReentrancyGuardTransient {
    using SafeCast for uint256;

    /// @notice May list collateral and set caps (governance's risk role).
    bytes32 public constant LISTER_ROLE = keccak256("LISTER_ROLE");
    /// @notice Liquidations wait this long after a recorded stablecoin pause or a price feed's recovery.
    uint256 public constant LIQUIDATION_GRACE = 1 hours;

    uint256 internal constant BPS = Constants.BPS;
    uint256 internal constant WAD = Constants.WAD;
    uint256 private constant YEAR = 365 days;
    uint8 private constant VAULT_DECIMALS_OFFSET = 6; // vault shares per stablecoin unit, against inflation
    uint32 private constant MAX_RATE_BPS = 1_000_000; // 10,000 % a year at full utilization

    IERC20 internal immutable _stablecoin;
    uint256 public immutable override minDebt;
    uint16 private immutable _baseBps;
    uint16 private immutable _kinkBps;
    uint32 private immutable _slope1Bps;
    uint32 private immutable _slope2Bps;
    address private immutable _blocklistTarget;
    bytes4 private immutable _blocklistSelector;

    uint128 internal _totalBorrowAssets;
    uint128 internal _totalBorrowShares;
    uint128 internal _idle;
    uint64 private _lastAccrual;
    uint64 private _pauseSeenAt;
    uint256 public override badDebt;

    constructor(
        address admin,
        IERC20 stablecoin_,
        RateCurve memory curve,
        uint256 minDebt_,
        Blocklist memory blocklist_
    ) ERC4626(stablecoin_) {
        if (
            curve.kinkBps == 0 || curve.kinkBps >= BPS
                || uint256(curve.baseBps) + curve.slope1Bps + curve.slope2Bps > MAX_RATE_BPS
        ) revert CreditInvalidRateCurve(curve);
        _stablecoin = stablecoin_;
        minDebt = minDebt_;
        _baseBps = curve.baseBps;
        _kinkBps = curve.kinkBps;
        _slope1Bps = curve.slope1Bps;
        _slope2Bps = curve.slope2Bps;
        _blocklistTarget = blocklist_.target;
        _blocklistSelector = blocklist_.selector;
        _lastAccrual = uint64(block.timestamp);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(LISTER_ROLE, admin);
    }

    // ---------------------------------------------------------------- grace

    /// @inheritdoc ILendingPool
    function recordStablecoinPause() external {
        bool paused = false;
        try IPausableToken(address(_stablecoin)).paused() returns (bool p) {
            paused = p;
        } catch {}
        if (!paused) revert CreditStablecoinNotPaused();
        _pauseSeenAt = uint64(block.timestamp);
        emit StablecoinPauseRecorded(block.timestamp, block.timestamp + LIQUIDATION_GRACE);
    }

    /// @inheritdoc ILendingPool
    function stablecoinGraceUntil() public view returns (uint256) {
        uint256 seen = _pauseSeenAt;
        // slither-disable-next-line incorrect-equality (a timestamp that was never set, not a balance)
        return seen == 0 ? 0 : seen + LIQUIDATION_GRACE;
    }

    /// @dev Refuses a liquidation before the later of the stablecoin's grace and `until` (a price source's own
    ///      grace; 0 for none). The bound is strict: at `until` liquidations resume.
    function _requireNoGrace(uint256 until) internal view {
        until = Math.max(until, stablecoinGraceUntil());
        if (block.timestamp < until) revert CreditLiquidationGrace(until);
    }

    /// @dev The grace after a price source recovered at `recoveredAt` (0: never).
    function _graceAfter(uint256 recoveredAt) internal pure returns (uint256) {
        return recoveredAt == 0 ? 0 : recoveredAt + LIQUIDATION_GRACE;
    }

    // ---------------------------------------------------------------- debt

    /// @dev Lends `amount` out of the idle liquidity; returns the debt shares to add to the position.
    function _lend(uint256 amount) internal returns (uint256 borrowShares) {
        uint256 available = _idle;
        if (amount > available) revert CreditInsufficientLiquidity(amount, available);
        borrowShares = _toSharesUp(amount);
        _totalBorrowShares += borrowShares.toUint128();
        _totalBorrowAssets += amount.toUint128();
        // amount <= available, checked above
        unchecked {
            _idle = uint128(available - amount);
        }
    }

    /// @dev Repays `amount` of a position holding `positionShares` whose debt is `debt`, into the idle
    ///      liquidity; returns the debt shares to remove from the position.
    function _repayDebt(uint256 positionShares, uint256 amount, uint256 debt) internal returns (uint256 burned) {
        // slither-disable-next-line incorrect-equality (repaying the whole debt burns every share)
        burned = amount == debt ? positionShares : Math.min(_toSharesDown(amount), positionShares);
        _totalBorrowShares -= uint128(burned);
        // A rounded-up debt can exceed the total by a unit when one position holds it all.
        uint256 total = _totalBorrowAssets;
        _totalBorrowAssets = uint128(total > amount ? total - amount : 0);
        _idle += amount.toUint128();
    }

    /// @dev Writes off the debt of `positionShares` against the lenders; the caller zeroes the position's shares.
    function _writeOff(uint256 positionShares) internal returns (uint256 amount) {
        amount = _debtUp(positionShares);
        uint256 total = _totalBorrowAssets;
        if (amount > total) amount = total;
        _totalBorrowShares -= uint128(positionShares);
        _totalBorrowAssets = uint128(total - amount);
        badDebt += amount;
    }

    function _accrue() internal {
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
    function _pendingInterest() internal view returns (uint256) {
        uint256 borrowed = _totalBorrowAssets;
        // slither-disable-next-line incorrect-equality (the pool's own debt total, not a token balance)
        if (borrowed == 0) return 0;
        return _interest(borrowed, _ratePerSecond(borrowed, _idle), block.timestamp - _lastAccrual);
    }

    /// @dev The one interest formula, for the accrual and for the views: linear over `elapsed`, rounded down.
    ///      Down, as Morpho Blue does: anyone can trigger an accrual (a one-unit deposit), so a unit rounded up
    ///      per accrual would let a caller inflate every borrower's interest (the review: 7.8 x over an hour
    ///      accrued every 2 s). The fraction left is at most a unit per accrual, pool-wide.
    function _interest(uint256 borrowed, uint256 ratePerSecond, uint256 elapsed) private pure returns (uint256) {
        return Math.mulDiv(borrowed, ratePerSecond * elapsed, WAD);
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

    function _toSharesUp(uint256 assets) internal view returns (uint256) {
        return SharesMathLib.toSharesUp(assets, _totalBorrowAssets, _totalBorrowShares);
    }

    function _toSharesDown(uint256 assets) internal view returns (uint256) {
        return SharesMathLib.toSharesDown(assets, _totalBorrowAssets, _totalBorrowShares);
    }

    /// @dev Debt of `shares`, rounded up, at the accrued totals.
    function _debtUp(uint256 shares) internal view returns (uint256) {
        // slither-disable-next-line incorrect-equality (debt shares, not a balance)
        if (shares == 0) return 0; // without reading the totals
        return SharesMathLib.toAssetsUp(shares, _totalBorrowAssets, _totalBorrowShares);
    }

    /// @dev Debt of `shares` when the pool owes `totalAssets`, rounded up.
    function _debtUp(uint256 shares, uint256 totalAssets_) internal view returns (uint256) {
        return SharesMathLib.toAssetsUp(shares, totalAssets_, _totalBorrowShares);
    }

    // ---------------------------------------------------------------- ERC-4626 (lenders)

    /// @notice Idle stablecoin plus the borrowers' debt, interest included up to now. Never a balance:
    ///         tokens sent to the vault directly belong to nobody and move no price.
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

    function _decimalsOffset() internal pure override returns (uint8) {
        return VAULT_DECIMALS_OFFSET;
    }

    /// @dev Previews already count pending interest (see totalAssets); accruing first keeps the state
    ///      consistent with them.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override nonReentrant {
        // slither-disable-next-line incorrect-equality (vault shares computed for this deposit, not a balance)
        if (shares == 0) revert CreditZeroShares(assets);
        _accrue();
        _idle += assets.toUint128();
        // ERC4626._deposit, with the amount received checked (no fee-on-transfer token mis-accounted)
        StablecoinLib.pullExact(_stablecoin, caller, assets);
        _mint(receiver, shares);
        emit Deposit(caller, receiver, assets, shares);
    }

    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
        nonReentrant
    {
        if (receiver != owner) _requireNotFrozen(owner); // paid to itself, its value stays frozen
        _accrue();
        uint256 available = _idle;
        if (assets > available) revert CreditInsufficientLiquidity(assets, available);
        // assets <= available, checked above
        unchecked {
            _idle = uint128(available - assets);
        }
        super._withdraw(caller, receiver, owner, assets, shares);
    }

    /// @dev Vault shares of an account the issuer froze cannot move (its claim on the pool would leave).
    function _update(address from, address to, uint256 value) internal virtual override {
        if (from != address(0) && to != address(0)) {
            _requireNotFrozen(from);
            _requireNotFrozen(to);
        }
        super._update(from, to, value);
    }

    /// @dev Reverts with StablecoinAccountFrozen when the issuer froze `account`.
    function _requireNotFrozen(address account) internal view {
        StablecoinLib.requireNotFrozen(Blocklist({target: _blocklistTarget, selector: _blocklistSelector}), account);
    }

    // ---------------------------------------------------------------- views

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

    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(ILendingPool).interfaceId || super.supportsInterface(interfaceId);
    }
}
