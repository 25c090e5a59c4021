// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {ICapacityShares} from "./interfaces/ICapacityShares.sol";
import {ILeaseMarket} from "./interfaces/ILeaseMarket.sol";
import {Blocklist} from "./interfaces/IStablecoinGuard.sol";
import {StablecoinLib} from "./libraries/StablecoinLib.sol";

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
        Blocklist blocklist;
        bool restricted;
        uint256 totalShares;
        address[] investors;
        uint256[] investorShares;
    }

    /// @dev One storage slot, so that settling a holder is one read and one write. The snapshot has the
    ///      accumulator's own width (see {Accumulator}); a holder's accrued revenue is at most the asset's
    ///      lifetime total, which has 96 bits. A holder settled after the first distribution never has a zero
    ///      slot again, so later settlements rewrite a non-zero slot rather than create one.
    struct Holder {
        uint160 paidPerShare; // accumulator value at the holder's last settlement
        uint96 accrued; // revenue settled but not yet claimed
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
    address private immutable _blocklistTarget;
    bytes4 private immutable _blocklistSelector;
    bytes32 private constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    /// @dev The supply is fixed at construction, so the accumulator divides by an immutable, not a storage read.
    uint256 private immutable _supply;

    /// @dev Revenue per share unit (scale 1e36) and the total distributed, in one slot that each distribution
    ///      writes once. The total fits 96 bits (7.9e22 of a 6-decimal stablecoin; SafeCast reverts beyond), so
    ///      the accumulator, at most total x 1e36 / supply with a supply of at least 1e18, fits 160.
    struct Accumulator {
        uint160 revenuePerShare;
        uint96 totalDistributed;
    }

    Accumulator private _acc;
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
        _blocklistTarget = init.blocklist.target;
        _blocklistSelector = init.blocklist.selector;
        _setAllowed(init.operator, true);
        uint256 allocated = 0;
        for (uint256 i; i < init.investors.length; ++i) {
            _setAllowed(init.investors[i], true);
            _mint(init.investors[i], init.investorShares[i]);
            allocated += init.investorShares[i];
        }
        if (init.totalShares > allocated) _mint(init.operator, init.totalShares - allocated);
        _supply = totalSupply();
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
        Accumulator memory acc = _acc;
        uint256 perShare = acc.revenuePerShare + Math.mulDiv(amount, ACC_SCALE, _supply);
        _acc = Accumulator({
            revenuePerShare: SafeCast.toUint160(perShare),
            totalDistributed: SafeCast.toUint96(acc.totalDistributed + amount)
        });
        emit RevenueDistributed(amount, perShare);
    }

    /// @inheritdoc ICapacityShares
    function claim(address to) external returns (uint256 amount) {
        if (to != msg.sender) _requireNotFrozen(msg.sender); // paid to itself, its value stays frozen
        Holder memory h = _holders[msg.sender];
        uint160 perShare = _acc.revenuePerShare;
        amount = h.accrued + _pending(msg.sender, h.paidPerShare, perShare);
        if (amount == 0) revert SharesNothingToClaim(msg.sender);
        _holders[msg.sender] = Holder({paidPerShare: perShare, accrued: 0});
        emit RevenueClaimed(msg.sender, to, amount);
        market.payHolderRevenue(assetId, to, amount);
    }

    /// @inheritdoc ICapacityShares
    function revenuePerShare() external view returns (uint256) {
        return _acc.revenuePerShare;
    }

    /// @inheritdoc ICapacityShares
    function totalDistributed() external view returns (uint256) {
        return _acc.totalDistributed;
    }

    /// @inheritdoc ICapacityShares
    function totalClaimed() external view returns (uint256) {
        // The market adds every distribution to the asset's holder ledger and pays every claim from it, so
        // the difference is what was claimed; keeping no counter here saves every claim a storage write.
        return _acc.totalDistributed - market.ledgerOf(assetId).holdersRevenue;
    }

    /// @inheritdoc ICapacityShares
    function claimable(address account) public view returns (uint256) {
        Holder memory h = _holders[account];
        return h.accrued + _pending(account, h.paidPerShare, _acc.revenuePerShare);
    }

    /// @dev Revenue earned since `paidPerShare` by the account's current balance; rounds down, in the
    ///      protocol's favour.
    function _pending(address account, uint256 paidPerShare, uint256 perShare) private view returns (uint256) {
        return Math.mulDiv(balanceOf(account), perShare - paidPerShare, ACC_SCALE);
    }

    /// @dev Moves the account's earnings since its last settlement into `accrued` (one slot read, and one
    ///      write only when the accumulator has moved).
    function _settle(address account) private {
        Holder memory h = _holders[account];
        uint160 perShare = _acc.revenuePerShare;
        if (h.paidPerShare != perShare) {
            _holders[account] = Holder({
                paidPerShare: perShare,
                accrued: SafeCast.toUint96(h.accrued + _pending(account, h.paidPerShare, perShare))
            });
        }
    }

    /// @dev Settles both sides at the old balances before any balance moves; enforces the allowlist and the
    ///      issuer's freeze (a frozen holder would otherwise hand its revenue to a fresh address).
    function _update(address from, address to, uint256 value) internal override {
        if (restricted) {
            if (from != address(0) && !_allowed[from]) revert SharesTransferNotAllowed(from);
            if (to != address(0) && !_allowed[to]) revert SharesTransferNotAllowed(to);
        }
        if (from != address(0)) {
            _requireNotFrozen(from);
            _requireNotFrozen(to);
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
        return _buy(msg.sender, shares, maxPricePerShare);
    }

    /// @inheritdoc ICapacityShares
    function buyFor(address buyer, uint256 shares, uint256 maxPricePerShare) external returns (uint256 cost) {
        return _buy(buyer, shares, maxPricePerShare);
    }

    function _buy(address buyer, uint256 shares, uint256 maxPricePerShare) private returns (uint256 cost) {
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
        StablecoinLib.pullExact(stablecoin, msg.sender, cost);
        _transfer(operator, buyer, shares);
        emit SharesBought(buyer, shares, cost);
    }

    /// @inheritdoc ICapacityShares
    function withdrawProceeds(address to) external onlyOperator returns (uint256 amount) {
        if (to != msg.sender) _requireNotFrozen(msg.sender); // paid to itself, its value stays frozen
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

    // ---------------------------------------------------------------- permit

    /// @notice EIP-2612 permit that also accepts an ERC-1271 signature when `owner` is a contract (a
    ///         smart-contract wallet or a multisig): the signature is (r, s, v) packed, as ERC-1271 wallets
    ///         verify it.
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        public
        override
    {
        if (block.timestamp > deadline) revert ERC2612ExpiredSignature(deadline);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline)));
        if (!SignatureChecker.isValidSignatureNow(owner, digest, abi.encodePacked(r, s, v))) {
            revert ERC2612InvalidSigner(owner, owner);
        }
        _approve(owner, spender, value);
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

    function _requireNotFrozen(address account) private view {
        StablecoinLib.requireNotFrozen(Blocklist({target: _blocklistTarget, selector: _blocklistSelector}), account);
    }

    function isAllowed(address account) external view returns (bool) {
        return !restricted || _allowed[account];
    }
}
