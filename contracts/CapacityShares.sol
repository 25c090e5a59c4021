// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ICapacityShares} from "./interfaces/ICapacityShares.sol";
import {ILeaseMarket} from "./interfaces/ILeaseMarket.sol";

/// @title CapacityShares
/// @notice See {ICapacityShares}. Deployed by the CapacityRegistry, one per asset; the holders' revenue
///         itself stays in the LeaseMarket and is paid from there when a holder claims.
contract CapacityShares is ICapacityShares, ERC20Permit {
    using SafeERC20 for IERC20;

    /// @dev Accumulator scale: revenue (6 decimals) per share unit (18 decimals) needs headroom.
    uint256 private constant ACC_SCALE = 1e36;

    struct Init {
        string name;
        string symbol;
        uint256 assetId;
        ILeaseMarket market;
        address operator;
        IERC20 stablecoin;
        bool restricted;
        uint256 totalShares;
        address[] investors;
        uint256[] investorShares;
    }

    struct Holder {
        uint256 paidPerShare; // accumulator value at the holder's last settlement
        uint256 accrued; // revenue settled but not yet claimed
    }

    struct Sale {
        uint256 remaining;
        uint256 pricePerShare;
        uint64 deadline;
    }

    uint256 public immutable override assetId;
    ILeaseMarket public immutable market;
    address public immutable operator;
    IERC20 public immutable stablecoin;
    bool public immutable override restricted;

    uint256 public override revenuePerShare;
    uint256 public override totalDistributed;
    uint256 public override totalClaimed;
    uint256 public override proceeds;
    Sale private _sale;
    mapping(address account => Holder) private _holders;
    mapping(address account => bool) private _allowed;

    constructor(Init memory init) ERC20(init.name, init.symbol) ERC20Permit(init.name) {
        assetId = init.assetId;
        market = init.market;
        operator = init.operator;
        stablecoin = init.stablecoin;
        restricted = init.restricted;
        _setAllowed(init.operator, true);
        uint256 allocated = 0;
        for (uint256 i; i < init.investors.length; ++i) {
            _setAllowed(init.investors[i], true);
            _mint(init.investors[i], init.investorShares[i]);
            allocated += init.investorShares[i];
        }
        if (init.totalShares > allocated) _mint(init.operator, init.totalShares - allocated);
    }

    modifier onlyOperator() {
        if (msg.sender != operator) revert SharesOnlyOperator(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- revenue

    /// @inheritdoc ICapacityShares
    function distribute(uint256 amount) external {
        if (msg.sender != address(market)) revert SharesOnlyMarket(msg.sender);
        // Rounds down: the part of `amount` the supply cannot express stays in the market as dust.
        uint256 perShare = revenuePerShare + Math.mulDiv(amount, ACC_SCALE, totalSupply());
        revenuePerShare = perShare;
        totalDistributed += amount;
        emit RevenueDistributed(amount, perShare);
    }

    /// @inheritdoc ICapacityShares
    function claim(address to) external returns (uint256 amount) {
        Holder storage h = _settle(msg.sender);
        amount = h.accrued;
        if (amount == 0) revert SharesNothingToClaim(msg.sender);
        h.accrued = 0;
        totalClaimed += amount;
        emit RevenueClaimed(msg.sender, to, amount);
        market.payHolderRevenue(assetId, to, amount);
    }

    /// @inheritdoc ICapacityShares
    function claimable(address account) public view returns (uint256) {
        Holder storage h = _holders[account];
        return h.accrued + _pending(account, h);
    }

    function _pending(address account, Holder storage h) private view returns (uint256) {
        // Rounds down, in the protocol's favour.
        return Math.mulDiv(balanceOf(account), revenuePerShare - h.paidPerShare, ACC_SCALE);
    }

    function _settle(address account) private returns (Holder storage h) {
        h = _holders[account];
        uint256 perShare = revenuePerShare;
        if (h.paidPerShare != perShare) {
            h.accrued += _pending(account, h);
            h.paidPerShare = perShare;
        }
    }

    /// @dev Settles both sides at the old balances before any balance moves; enforces the allowlist.
    function _update(address from, address to, uint256 value) internal override {
        if (restricted) {
            if (from != address(0) && !_allowed[from]) revert SharesTransferNotAllowed(from);
            if (to != address(0) && !_allowed[to]) revert SharesTransferNotAllowed(to);
        }
        if (from != address(0)) _settle(from);
        if (to != address(0) && to != from) _settle(to);
        super._update(from, to, value);
    }

    // ---------------------------------------------------------------- sale

    /// @inheritdoc ICapacityShares
    function openSale(uint256 amount, uint256 pricePerShare, uint64 deadline) external onlyOperator {
        if (amount == 0 || pricePerShare == 0 || deadline <= block.timestamp) {
            revert SharesInvalidSale(amount, pricePerShare, deadline);
        }
        _sale = Sale({remaining: amount, pricePerShare: pricePerShare, deadline: deadline});
        emit SaleOpened(amount, pricePerShare, deadline);
    }

    /// @inheritdoc ICapacityShares
    function buy(uint256 shares, uint256 maxPricePerShare) external returns (uint256 cost) {
        if (shares == 0) revert SharesZeroAmount();
        Sale storage s = _sale;
        if (s.remaining == 0 || block.timestamp > s.deadline) revert SharesSaleClosed();
        if (shares > s.remaining) revert SharesSaleExceeded(shares, s.remaining);
        if (s.pricePerShare > maxPricePerShare) revert SharesSalePriceAboveMax(s.pricePerShare, maxPricePerShare);
        // The buyer pays the rounded-up price: the seller never receives less than the price.
        cost = Math.mulDiv(shares, s.pricePerShare, 1e18, Math.Rounding.Ceil);
        // shares <= remaining, checked above
        unchecked {
            s.remaining -= shares;
        }
        proceeds += cost;
        stablecoin.safeTransferFrom(msg.sender, address(this), cost);
        _transfer(operator, msg.sender, shares);
        emit SharesBought(msg.sender, shares, cost);
    }

    /// @inheritdoc ICapacityShares
    function withdrawProceeds(address to) external onlyOperator returns (uint256 amount) {
        amount = proceeds;
        if (amount == 0) revert SharesNothingToClaim(msg.sender);
        proceeds = 0;
        emit ProceedsWithdrawn(msg.sender, to, amount);
        stablecoin.safeTransfer(to, amount);
    }

    function sale() external view returns (uint256 remaining, uint256 pricePerShare, uint64 deadline) {
        Sale storage s = _sale;
        return (s.remaining, s.pricePerShare, s.deadline);
    }

    // ---------------------------------------------------------------- allowlist

    /// @inheritdoc ICapacityShares
    function setAllowed(address account, bool allowed) external onlyOperator {
        _setAllowed(account, allowed);
    }

    function _setAllowed(address account, bool allowed) private {
        _allowed[account] = allowed;
        emit AllowlistUpdated(account, allowed);
    }

    function isAllowed(address account) external view returns (bool) {
        return !restricted || _allowed[account];
    }
}
