// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {BtcPosition, Caps, CollateralParams, IBtcCreditMarket} from "./interfaces/IBtcCreditMarket.sol";
import {RateCurve} from "./interfaces/ILendingPool.sol";
import {CreditLib} from "./libraries/CreditLib.sol";
import {Blocklist} from "./interfaces/IStablecoinGuard.sol";
import {LendingPool} from "./LendingPool.sol";
import {StablecoinLib} from "./libraries/StablecoinLib.sol";

/// @title BtcCreditMarket
/// @notice See {IBtcCreditMarket}.
/// @dev Rounding: see {LendingPool} and {CreditLib}; the feed's answer converts to stablecoin units per
///      whole bitcoin rounded down. Every stablecoin unit this contract holds is `idle` (the lenders').
contract BtcCreditMarket is IBtcCreditMarket, LendingPool {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @dev The deployment's fixed terms.
    struct Terms {
        IERC20 stablecoin;
        IERC20 collateral; // wrapped BTC
        AggregatorV3Interface priceFeed; // BTC / USD
        AggregatorV3Interface sequencerFeed; // Chainlink L2 sequencer uptime; zero on L1
        uint32 heartbeat; // seconds an answer stays usable
        CollateralParams params;
        Caps caps;
        RateCurve curve;
        uint256 minDebt;
        Blocklist blocklist; // the stablecoin issuer's (see {CapacityRegistry-blocklist})
    }

    uint32 private constant MIN_HEARTBEAT = 1 minutes;
    uint32 private constant MAX_HEARTBEAT = 2 days;
    uint8 private constant MAX_DECIMALS = 18;

    IERC20 private immutable _collateral;
    AggregatorV3Interface private immutable _priceFeed;
    AggregatorV3Interface private immutable _sequencerFeed;
    uint256 private immutable _heartbeat;
    uint256 private immutable _unit; // collateral base units per whole bitcoin
    uint256 private immutable _priceScale; // feed answer x stablecoin unit / feed unit, as numerator / denominator
    uint256 private immutable _feedUnit;
    uint16 private immutable _ltvBps;
    uint16 private immutable _thresholdBps;
    uint16 private immutable _bonusBps;
    uint16 private immutable _closeFactorBps;

    Caps private _caps;
    uint256 public override totalCollateral;
    uint64 private _outageGraceUntil;
    mapping(address borrower => BtcPosition) private _positions;

    constructor(address admin, Terms memory t, string memory name_, string memory symbol_)
        ERC20(name_, symbol_)
        LendingPool(admin, t.stablecoin, t.curve, t.minDebt, t.blocklist)
    {
        if (!CreditLib.isValid(t.params)) revert CreditInvalidCollateralParams(t.params);
        if (t.heartbeat < MIN_HEARTBEAT || t.heartbeat > MAX_HEARTBEAT) revert CreditInvalidFeed(address(t.priceFeed));
        uint8 feedDecimals = t.priceFeed.decimals();
        if (feedDecimals > MAX_DECIMALS) revert CreditInvalidFeed(address(t.priceFeed));
        uint8 collateralDecimals = IERC20Metadata(address(t.collateral)).decimals();
        if (collateralDecimals > MAX_DECIMALS) revert CreditInvalidCollateralToken(address(t.collateral));
        _collateral = t.collateral;
        _priceFeed = t.priceFeed;
        _sequencerFeed = t.sequencerFeed;
        _heartbeat = t.heartbeat;
        _unit = 10 ** collateralDecimals;
        _priceScale = 10 ** IERC20Metadata(address(t.stablecoin)).decimals();
        _feedUnit = 10 ** feedDecimals;
        _ltvBps = t.params.ltvBps;
        _thresholdBps = t.params.liquidationThresholdBps;
        _bonusBps = t.params.liquidationBonusBps;
        _closeFactorBps = t.params.closeFactorBps;
        _caps = t.caps;
        emit CapsSet(t.caps);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IBtcCreditMarket
    function setCaps(Caps calldata caps) external onlyRole(LISTER_ROLE) {
        _caps = caps;
        emit CapsSet(caps);
    }

    // ---------------------------------------------------------------- borrowers

    /// @inheritdoc IBtcCreditMarket
    function supplyCollateral(uint256 amount, address borrower) external nonReentrant {
        if (amount == 0) revert CreditZeroAmount();
        uint256 total = totalCollateral + amount;
        uint256 cap = _caps.supplyCap;
        if (total > cap) revert CreditSupplyCapExceeded(total, cap);
        totalCollateral = total;
        // amount <= total <= the cap, a uint128: the cast is exact
        _positions[borrower].collateral += uint128(amount);
        emit CollateralSupplied(borrower, msg.sender, amount);
        StablecoinLib.pullExact(_collateral, msg.sender, amount);
    }

    /// @inheritdoc IBtcCreditMarket
    function withdrawCollateral(uint256 amount, address to) external nonReentrant {
        if (amount == 0) revert CreditZeroAmount();
        _accrue();
        BtcPosition storage pos = _positions[msg.sender];
        uint256 held = pos.collateral;
        if (amount > held) revert CreditInsufficientCollateral(amount, held);
        _removeCollateral(pos, amount);
        if (pos.borrowShares != 0) _requireWithinLtv(pos, _debtUp(pos.borrowShares));
        emit CollateralWithdrawn(msg.sender, to, amount);
        _collateral.safeTransfer(to, amount);
    }

    /// @inheritdoc IBtcCreditMarket
    function borrow(uint256 amount, address to) external nonReentrant returns (uint256 borrowShares) {
        if (amount == 0) revert CreditZeroAmount();
        if (to != msg.sender) _requireNotFrozen(msg.sender); // paid to itself, its value stays frozen
        _accrue();
        BtcPosition storage pos = _positions[msg.sender];
        uint256 debt = _debtUp(pos.borrowShares) + amount;
        if (debt < minDebt) revert CreditDebtBelowMinimum(debt, minDebt);
        _requireWithinLtv(pos, debt);
        borrowShares = _lend(amount);
        uint256 total = _totalBorrowAssets;
        uint256 cap = _caps.borrowCap;
        if (total > cap) revert CreditBorrowCapExceeded(total, cap);
        pos.borrowShares += borrowShares.toUint128();
        emit Borrowed(msg.sender, to, amount, borrowShares);
        _stablecoin.safeTransfer(to, amount);
    }

    /// @inheritdoc IBtcCreditMarket
    function repay(uint256 amount, address borrower) external nonReentrant returns (uint256 repaid) {
        if (amount == 0) revert CreditZeroAmount();
        _accrue();
        BtcPosition storage pos = _positions[borrower];
        uint256 debt = _debtUp(pos.borrowShares);
        if (amount == type(uint256).max) amount = debt;
        else if (amount > debt) revert CreditRepayExceedsDebt(amount, debt);
        // slither-disable-next-line incorrect-equality (a position without debt has nothing to repay)
        if (amount == 0) revert CreditRepayExceedsDebt(amount, debt);
        uint256 burned = _repayDebt(pos.borrowShares, amount, debt);
        pos.borrowShares -= uint128(burned);
        uint256 left = debt - amount;
        if (left != 0 && left < minDebt) revert CreditDebtBelowMinimum(left, minDebt);
        repaid = amount;
        emit Repaid(borrower, msg.sender, amount, burned);
        StablecoinLib.pullExact(_stablecoin, msg.sender, amount);
    }

    /// @inheritdoc IBtcCreditMarket
    function liquidate(address borrower, uint256 repayAmount, address to)
        external
        nonReentrant
        returns (uint256 seized)
    {
        if (repayAmount == 0) revert CreditZeroAmount();
        _accrue();
        uint256 upSince = _requireSequencerUp();
        _requireNoGrace(Math.max(_graceAfter(upSince), _outageGraceUntil));
        uint256 price_ = _freshPrice();
        BtcPosition storage pos = _positions[borrower];
        uint256 debt = _debtUp(pos.borrowShares);
        CollateralParams memory p = collateralParams();
        uint256 value = CreditLib.valueOf(pos.collateral, price_, _unit);
        if (!CreditLib.isLiquidatable(debt, value, _thresholdBps)) {
            revert CreditPositionHealthy(borrower, CreditLib.health(value, _thresholdBps, debt));
        }
        uint256 repaid;
        (repaid, seized) = CreditLib.liquidation(debt, pos.collateral, price_, _unit, p, repayAmount);
        if (repaid != 0) pos.borrowShares -= uint128(_repayDebt(pos.borrowShares, repaid, debt));
        _removeCollateral(pos, seized);
        uint256 writtenOff = 0;
        if (pos.collateral == 0 && pos.borrowShares != 0) {
            writtenOff = _writeOff(pos.borrowShares);
            pos.borrowShares = 0;
        }
        emit Liquidated(borrower, msg.sender, repaid, seized, price_, writtenOff);
        if (repaid != 0) StablecoinLib.pullExact(_stablecoin, msg.sender, repaid);
        _collateral.safeTransfer(to, seized);
    }

    /// @inheritdoc IBtcCreditMarket
    /// @dev The grace is as long as the outage has lasted so far, up to `LIQUIDATION_GRACE`: a feed a few
    ///      seconds late buys a few seconds, not an hour (the review's finding). Recording again later in the
    ///      same outage lengthens it; it never shortens a grace already granted.
    function recordPriceOutage() external {
        // slither-disable-next-line unused-return (only the answer and its time matter here)
        (, int256 answer,, uint256 updatedAt,) = _priceFeed.latestRoundData();
        uint256 since = answer > 0 ? updatedAt + _heartbeat : updatedAt; // when the price became unusable
        if (block.timestamp <= since) revert CreditPriceFresh(updatedAt, _heartbeat);
        uint256 until = block.timestamp + Math.min(block.timestamp - since, LIQUIDATION_GRACE);
        if (until > _outageGraceUntil) _outageGraceUntil = uint64(until);
        emit PriceOutageRecorded(block.timestamp, until);
    }

    function _removeCollateral(BtcPosition storage pos, uint256 amount) private {
        // amount <= the position's collateral (checked by every caller), which is part of the total
        unchecked {
            pos.collateral -= uint128(amount);
            totalCollateral -= amount;
        }
    }

    // ---------------------------------------------------------------- price

    /// @dev New debt needs the sequencer up past its grace and a fresh, positive price.
    function _requireWithinLtv(BtcPosition storage pos, uint256 debt) private view {
        uint256 upSince = _requireSequencerUp();
        uint256 until = upSince == 0 ? 0 : upSince + LIQUIDATION_GRACE;
        if (block.timestamp < until) revert CreditSequencerGrace(until);
        uint256 maxDebt = CreditLib.maxDebt(CreditLib.valueOf(pos.collateral, _freshPrice(), _unit), _ltvBps);
        if (debt > maxDebt) revert CreditExceedsLtv(debt, maxDebt);
    }

    /// @dev Chainlink's L2 sequencer feed: answer 0 is up, 1 is down; `startedAt` is when that status
    ///      began. Returns when the sequencer came up (0 without a sequencer feed).
    function _requireSequencerUp() private view returns (uint256 upSince) {
        if (address(_sequencerFeed) == address(0)) return 0;
        // slither-disable-next-line unused-return (the round ids and update time do not matter here)
        (, int256 answer, uint256 startedAt,,) = _sequencerFeed.latestRoundData();
        if (answer != 0) revert CreditSequencerDown();
        return startedAt;
    }

    /// @dev Stablecoin base units per whole bitcoin at a positive answer updated within the heartbeat.
    function _freshPrice() private view returns (uint256) {
        // slither-disable-next-line unused-return (round ids are not needed: freshness is by time)
        (, int256 answer,, uint256 updatedAt,) = _priceFeed.latestRoundData();
        if (answer <= 0) revert CreditInvalidPrice(answer);
        if (block.timestamp > updatedAt + _heartbeat) revert CreditPriceStale(updatedAt, _heartbeat);
        return Math.mulDiv(uint256(answer), _priceScale, _feedUnit);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IBtcCreditMarket
    function price() public view returns (uint256 pricePerBtc, bool usable) {
        // slither-disable-next-line unused-return (round ids are not needed: freshness is by time)
        (, int256 answer,, uint256 updatedAt,) = _priceFeed.latestRoundData();
        if (answer <= 0) return (0, false);
        return (Math.mulDiv(uint256(answer), _priceScale, _feedUnit), block.timestamp <= updatedAt + _heartbeat);
    }

    function positionOf(address borrower) external view returns (BtcPosition memory) {
        return _positions[borrower];
    }

    function debtOf(address borrower) public view returns (uint256) {
        return _debtUp(_positions[borrower].borrowShares, _totalBorrowAssets + _pendingInterest());
    }

    function healthFactor(address borrower) external view returns (uint256) {
        (uint256 p,) = price();
        return
            CreditLib.health(
                CreditLib.valueOf(_positions[borrower].collateral, p, _unit), _thresholdBps, debtOf(borrower)
            );
    }

    function borrowCapacity(address borrower) external view returns (uint256) {
        (uint256 p, bool usable) = price();
        if (!usable) return 0;
        uint256 maxDebt = CreditLib.maxDebt(CreditLib.valueOf(_positions[borrower].collateral, p, _unit), _ltvBps);
        uint256 debt = debtOf(borrower);
        uint256 total = _totalBorrowAssets + _pendingInterest();
        uint256 cap = _caps.borrowCap;
        uint256 capLeft = cap > total ? cap - total : 0;
        return maxDebt > debt ? Math.min(Math.min(maxDebt - debt, _idle), capLeft) : 0;
    }

    function collateralParams() public view returns (CollateralParams memory) {
        return CollateralParams({
            ltvBps: _ltvBps,
            liquidationThresholdBps: _thresholdBps,
            liquidationBonusBps: _bonusBps,
            closeFactorBps: _closeFactorBps
        });
    }

    function capsOf() external view returns (Caps memory) {
        return _caps;
    }

    function collateralToken() external view returns (address) {
        return address(_collateral);
    }

    function priceFeed() external view returns (address) {
        return address(_priceFeed);
    }

    function sequencerFeed() external view returns (address) {
        return address(_sequencerFeed);
    }

    function heartbeat() external view returns (uint256) {
        return _heartbeat;
    }

    function priceOutageGraceUntil() external view returns (uint256) {
        return _outageGraceUntil;
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IBtcCreditMarket).interfaceId || super.supportsInterface(interfaceId);
    }
}
