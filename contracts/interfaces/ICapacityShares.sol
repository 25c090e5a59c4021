// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IStablecoinGuard} from "./IStablecoinGuard.sol";

/// @title CapacityShares
/// @notice ERC-20 (+EIP-2612) claim on one asset's lease revenue. Revenue is paid through a per-share
///         accumulator: distributing and claiming are O(1) whatever the number of holders, and every
///         transfer settles both sides first. The operator can sell its own shares for the stablecoin.
interface ICapacityShares is IStablecoinGuard {
    error SharesOnlyMarket(address caller);
    error SharesOnlyOperator(address caller);
    error SharesTransferNotAllowed(address account);
    error SharesNothingToClaim(address account);
    error SharesSaleClosed();
    error SharesSaleExceeded(uint256 requested, uint256 remaining);
    error SharesSalePriceAboveMax(uint256 pricePerShare, uint256 maxPricePerShare);
    error SharesZeroAmount();
    error SharesInvalidSale(uint256 amount, uint256 pricePerShare, uint64 deadline);

    /// @param amount stablecoin added to holders' revenue; `perShare` is the accumulator after it
    event RevenueDistributed(uint256 amount, uint256 perShare);
    event RevenueClaimed(address indexed holder, address indexed to, uint256 amount);
    event SaleOpened(uint256 amount, uint256 pricePerShare, uint64 deadline);
    event SharesBought(address indexed buyer, uint256 shares, uint256 cost);
    event ProceedsWithdrawn(address indexed operator, address indexed to, uint256 amount);
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

    function assetId() external view returns (uint256);
    /// @notice Revenue per share unit distributed so far, scaled by 1e36 (rounded down at each distribution).
    function revenuePerShare() external view returns (uint256);
    /// @notice Stablecoin distributed to holders so far (base units); at most 2^96 - 1 over the asset's life.
    function totalDistributed() external view returns (uint256);
    /// @notice Revenue paid to holders so far: everything distributed less what the market still holds for them.
    function totalClaimed() external view returns (uint256);
    function restricted() external view returns (bool);
    function isAllowed(address account) external view returns (bool);
    function proceeds() external view returns (uint256);
    function sale() external view returns (uint256 remaining, uint256 pricePerShare, uint64 deadline);
}
