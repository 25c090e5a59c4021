// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IStablecoinGuard} from "./IStablecoinGuard.sol";
import {LeaseClass} from "./ILeaseMarket.sol";

/// @notice How a payer authorizes the stablecoin for one call.
enum PaymentKind {
    Permit, // EIP-2612: the router becomes the spender of `value` until `deadline`
    Authorization // EIP-3009 receiveWithAuthorization: `value` moves to the router, valid in (validAfter, deadline)
}

/// @notice A signed payment of `value` stablecoin base units by the caller to the router.
/// @dev The router keeps nothing: what the action does not use goes back to the payer in the same call.
/// @param kind whether the signature is an EIP-2612 permit or an EIP-3009 authorization
/// @param value the stablecoin base units the payer signed for
/// @param validAfter Authorization only: unix time (seconds) after which it is valid (zero for a permit)
/// @param deadline the permit's deadline, or the authorization's validBefore (unix seconds)
/// @param nonce Authorization only: its 32-byte nonce (a permit uses the token's own nonce)
/// @param v the signature's recovery byte
/// @param r the signature's r
/// @param s the signature's s
struct Payment {
    PaymentKind kind;
    uint256 value;
    uint256 validAfter;
    uint256 deadline;
    bytes32 nonce;
    uint8 v;
    bytes32 r;
    bytes32 s;
}

/// @title IPaymentRouter
/// @notice One transaction to pay and act: open or extend a lease, buy shares, or supply a credit vault with
///         an EIP-2612 permit or an EIP-3009 authorization signed by the caller, instead of an approve
///         transaction first. The caller is always the payer and receives the position.
interface IPaymentRouter is IStablecoinGuard {
    /// @notice The permit's deadline or the authorization's validity window does not include now: raised for a
    ///         permit when now is past its deadline, for an authorization when now is not strictly between
    ///         `validAfter` and `deadline`.
    /// @param validAfter the authorization's validAfter (unix seconds); zero for a permit
    /// @param deadline the permit's deadline or the authorization's validBefore (unix seconds)
    /// @param timestamp the block's timestamp
    error PaymentNotValidNow(uint256 validAfter, uint256 deadline, uint256 timestamp);
    /// @notice The token refused the permit (another signer, spender, value or nonce) and no allowance
    ///         covers the payment. Raised only when the caller has not already approved the router for `value`
    ///         (a permit someone else submitted first leaves that allowance, and the payment goes on).
    /// @param owner the payer (the caller)
    /// @param value the stablecoin base units the permit was for
    /// @param deadline the permit's deadline (unix seconds)
    error PaymentPermitRejected(address owner, uint256 value, uint256 deadline);
    /// @notice The token refused the authorization (used nonce, another signer, value or window): its
    ///         `receiveWithAuthorization` reverted.
    /// @param from the payer (the caller)
    /// @param value the stablecoin base units the authorization was for
    /// @param nonce the authorization's nonce
    error PaymentAuthorizationRejected(address from, uint256 value, bytes32 nonce);
    /// @notice The shares are not a Wellhead asset's shares of this deployment: raised by {buyShares} when the
    ///         registry records another shares contract for the asset id that `shares` reports.
    /// @param shares the shares contract given
    error PaymentUnknownShares(address shares);
    /// @notice The vault does not take this deployment's stablecoin: raised by {supply} when the vault's
    ///         ERC-4626 `asset()` is another token.
    /// @param vault the vault given
    /// @param asset the token the vault takes
    error PaymentWrongVault(address vault, address asset);

    /// @notice Emitted for every payment taken, with what went back to the payer: once per call, after the
    ///         action, when the router withdraws its approval of the target.
    /// @param payer the caller, who signed the payment and receives the position
    /// @param target the contract the router paid: the LeaseMarket, the asset's shares or the vault
    /// @param kind whether the payment was a permit or an authorization
    /// @param value the stablecoin base units taken from the payer
    /// @param returned the stablecoin base units the action did not use, sent back to the payer
    event PaymentRouted(
        address indexed payer, address indexed target, PaymentKind kind, uint256 value, uint256 returned
    );

    /// @notice Pays with `payment` and opens a lease ({ILeaseMarket-openLeaseFor}) minted to the caller.
    function openLease(
        Payment calldata payment,
        uint256 assetId,
        uint32 gpus,
        uint64 epochs,
        LeaseClass class,
        uint256 maxPricePerGpuHour
    ) external returns (uint256 leaseId);

    /// @notice Pays with `payment` and extends lease `leaseId` by `epochs` epochs ({ILeaseMarket-extendLease}).
    function extendLease(Payment calldata payment, uint256 leaseId, uint64 epochs) external returns (uint256 paid);

    /// @notice Pays with `payment` and buys `amount` shares from the asset's open sale
    ///         ({ICapacityShares-buyFor}), sent to the caller.
    function buyShares(Payment calldata payment, address shares, uint256 amount, uint256 maxPricePerShare)
        external
        returns (uint256 cost);

    /// @notice Deposits `assets` into an ERC-4626 credit vault of this stablecoin, the vault shares to the caller.
    function supply(Payment calldata payment, address vault, uint256 assets) external returns (uint256 vaultShares);
}
