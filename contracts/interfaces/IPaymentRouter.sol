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
struct Payment {
    PaymentKind kind;
    uint256 value;
    uint256 validAfter; // Authorization only (zero for a permit)
    uint256 deadline; // the permit's deadline, or the authorization's validBefore
    bytes32 nonce; // Authorization only (a permit uses the token's own nonce)
    uint8 v;
    bytes32 r;
    bytes32 s;
}

/// @title IPaymentRouter
/// @notice One transaction to pay and act: open or extend a lease, buy shares, or supply a credit vault with
///         an EIP-2612 permit or an EIP-3009 authorization signed by the caller, instead of an approve
///         transaction first. The caller is always the payer and receives the position.
interface IPaymentRouter is IStablecoinGuard {
    /// @notice The permit's deadline or the authorization's validity window does not include now.
    error PaymentNotValidNow(uint256 validAfter, uint256 deadline, uint256 timestamp);
    /// @notice The token refused the permit (another signer, spender, value or nonce) and no allowance
    ///         covers the payment.
    error PaymentPermitRejected(address owner, uint256 value, uint256 deadline);
    /// @notice The token refused the authorization (used nonce, another signer, value or window).
    error PaymentAuthorizationRejected(address from, uint256 value, bytes32 nonce);
    /// @notice The shares are not a Wellhead asset's shares of this deployment.
    error PaymentUnknownShares(address shares);
    /// @notice The vault does not take this deployment's stablecoin.
    error PaymentWrongVault(address vault, address asset);

    /// @notice Emitted for every payment taken, with what went back to the payer.
    event PaymentRouted(
        address indexed payer, address indexed target, PaymentKind kind, uint256 value, uint256 returned
    );

    function openLease(
        Payment calldata payment,
        uint256 assetId,
        uint32 gpus,
        uint64 epochs,
        LeaseClass class,
        uint256 maxPricePerGpuHour
    ) external returns (uint256 leaseId);

    function extendLease(Payment calldata payment, uint256 leaseId, uint64 epochs) external returns (uint256 paid);

    function buyShares(Payment calldata payment, address shares, uint256 amount, uint256 maxPricePerShare)
        external
        returns (uint256 cost);

    /// @notice Deposits `assets` into an ERC-4626 credit vault of this stablecoin, the vault shares to the caller.
    function supply(Payment calldata payment, address vault, uint256 assets) external returns (uint256 vaultShares);
}
