// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IStablecoinGuard} from "./IStablecoinGuard.sol";

/// @title CapacityShares
/// @notice ERC-20 (+EIP-2612) claim on one asset's lease revenue. Revenue is paid through a per-share
///         accumulator: distributing and claiming are O(1) whatever the number of holders, and every
///         transfer settles both sides first. The operator can sell its own shares for the stablecoin.
interface ICapacityShares is IStablecoinGuard {
    /// @notice Raised when anyone but the LeaseMarket calls {distribute}.
    /// @param caller the caller
    error SharesOnlyMarket(address caller);
    /// @notice Raised when anyone but the asset's operator opens a sale, withdraws its proceeds or changes
    ///         the allowlist.
    /// @param caller the caller
    error SharesOnlyOperator(address caller);
    /// @notice Raised on a transfer of restricted shares when the sender or the recipient is not on the
    ///         allowlist.
    /// @param account the side of the transfer that is not allowlisted
    error SharesTransferNotAllowed(address account);
    /// @notice Raised when a holder claims with no revenue to claim, or the operator withdraws with no sale
    ///         proceeds.
    /// @param account the caller
    error SharesNothingToClaim(address account);
    /// @notice Raised when a purchase finds no open sale: none was opened, it is sold out, or its deadline has
    ///         passed.
    error SharesSaleClosed();
    /// @notice Raised when a purchase asks for more shares than the open sale has left.
    /// @param requested the shares asked for (18 decimals)
    /// @param remaining the shares the sale has left (18 decimals)
    error SharesSaleExceeded(uint256 requested, uint256 remaining);
    /// @notice Raised when the sale's price is above the buyer's `maxPricePerShare` (a price raised by a
    ///         replaced sale).
    /// @param pricePerShare the sale's price, in stablecoin base units per whole share
    /// @param maxPricePerShare the buyer's limit, in stablecoin base units per whole share
    error SharesSalePriceAboveMax(uint256 pricePerShare, uint256 maxPricePerShare);
    /// @notice Raised when a purchase asks for zero shares.
    error SharesZeroAmount();
    /// @notice Raised when the operator opens a sale of zero shares, at a zero price, or with a deadline that
    ///         is not in the future.
    /// @param amount the shares offered (18 decimals)
    /// @param pricePerShare the price, in stablecoin base units per whole share
    /// @param deadline the sale's deadline (unix seconds)
    error SharesInvalidSale(uint256 amount, uint256 pricePerShare, uint64 deadline);

    /// @notice Emitted when the LeaseMarket adds revenue to the holders' accumulator: at each settled epoch
    ///         that delivered holder revenue, each energy-income deposit, and each cancellation charge.
    /// @param amount stablecoin added to holders' revenue; `perShare` is the accumulator after it
    /// @param perShare the revenue per share unit distributed so far, scaled by 1e36, after this distribution
    event RevenueDistributed(uint256 amount, uint256 perShare);
    /// @notice Emitted when a holder claims its accrued revenue (paid from the LeaseMarket).
    /// @param holder the holder claiming (the caller)
    /// @param to the address paid
    /// @param amount the revenue paid, in stablecoin base units
    event RevenueClaimed(address indexed holder, address indexed to, uint256 amount);
    /// @notice Emitted when the operator opens a sale of its own shares, or replaces the open one.
    /// @param amount the shares offered (18 decimals)
    /// @param pricePerShare the price, in stablecoin base units per whole share
    /// @param deadline the last moment (unix seconds) the shares can be bought
    event SaleOpened(uint256 amount, uint256 pricePerShare, uint64 deadline);
    /// @notice Emitted when shares are bought from the operator's sale.
    /// @param buyer the address that received the shares (the caller, or the payment router's payer)
    /// @param shares the shares bought (18 decimals)
    /// @param cost the price paid, in stablecoin base units (rounded up), credited to the operator's proceeds
    event SharesBought(address indexed buyer, uint256 shares, uint256 cost);
    /// @notice Emitted when the operator withdraws its sale proceeds.
    /// @param operator the asset's operator (the caller)
    /// @param to the address paid
    /// @param amount the proceeds paid, in stablecoin base units
    event ProceedsWithdrawn(address indexed operator, address indexed to, uint256 amount);
    /// @notice Emitted when an account is added to or removed from the transfer allowlist: by the operator,
    ///         and at deployment for the operator and every initial investor (restricted shares or not).
    /// @param account the account
    /// @param allowed whether it may now send and receive restricted shares
    event AllowlistUpdated(address indexed account, bool allowed);

    /// @notice Adds `amount` of stablecoin, already transferred to this contract, to holders' revenue.
    /// @dev Only the LeaseMarket. Amounts smaller than the supply can express stay as dust in the contract.
    function distribute(uint256 amount) external;

    /// @notice Pays the caller's accrued revenue to `to`. Reverts with StablecoinAccountFrozen when the
    ///         issuer froze the caller and `to` is another address (to itself, the token refuses it or keeps
    ///         it frozen); a frozen holder's shares can neither move nor be claimed on elsewhere (its
    ///         revenue keeps accruing to it, and is paid once the issuer lifts the freeze).
    function claim(address to) external returns (uint256 amount);

    /// @notice Revenue the account can claim now.
    function claimable(address account) external view returns (uint256);

    /// @notice Opens (or replaces) a sale of the operator's own shares at a fixed price.
    /// @param pricePerShare stablecoin base units per whole share (1e18 units), cost rounds up
    function openSale(uint256 amount, uint256 pricePerShare, uint64 deadline) external;

    /// @notice Buys `shares` from the open sale; the stablecoin is credited to the operator's proceeds.
    function buy(uint256 shares, uint256 maxPricePerShare) external returns (uint256 cost);

    /// @notice {buy} paid by the caller, the shares sent to `buyer` (the payment router's path).
    function buyFor(address buyer, uint256 shares, uint256 maxPricePerShare) external returns (uint256 cost);

    /// @notice Sends the operator's sale proceeds to `to` (not while the issuer freezes the operator).
    function withdrawProceeds(address to) external returns (uint256 amount);

    /// @notice Adds or removes an account from the transfer allowlist (restricted assets only matter).
    function setAllowed(address account, bool allowed) external;

    /// @notice The asset whose revenue the shares claim.
    function assetId() external view returns (uint256);
    /// @notice Revenue per share unit distributed so far, scaled by 1e36 (rounded down at each distribution).
    function revenuePerShare() external view returns (uint256);
    /// @notice Stablecoin distributed to holders so far (base units); at most 2^96 - 1 over the asset's life.
    function totalDistributed() external view returns (uint256);
    /// @notice Revenue paid to holders so far: everything distributed less what the market still holds for them.
    function totalClaimed() external view returns (uint256);
    /// @notice Whether transfers are limited to allowlisted accounts.
    function restricted() external view returns (bool);
    /// @notice Whether `account` may send and receive the shares (always true for unrestricted shares).
    function isAllowed(address account) external view returns (bool);
    /// @notice The operator's sale proceeds not yet withdrawn, in stablecoin base units.
    function proceeds() external view returns (uint256);
    /// @notice The current sale: shares left, price per whole share (stablecoin base units), deadline.
    function sale() external view returns (uint256 remaining, uint256 pricePerShare, uint64 deadline);
}
