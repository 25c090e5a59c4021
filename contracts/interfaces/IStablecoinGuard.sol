// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @notice Where a deployment reads its stablecoin issuer's blocklist: `selector(address) returns (bool)`
///         on `target`. USDC (FiatToken) and EURC answer `isBlacklisted(address)` on the token itself, USDT
///         `isBlackListed(address)`, PYUSD `isFrozen(address)`. A zero target means the token has no blocklist.
/// @param target the contract asked whether an account is blocked (the token itself for USDC and EURC); zero when the
///        token has no blocklist
/// @param selector the 4-byte selector of the `(address) returns (bool)` query called on `target`
struct Blocklist {
    address target;
    bytes4 selector;
}

/// @title IStablecoinGuard
/// @notice The errors every Wellhead contract that holds the stablecoin may raise when money comes in or
///         would leave for an account the issuer froze.
interface IStablecoinGuard {
    /// @notice The issuer froze `account`: it can neither take value out of the protocol to another address
    ///         nor hand a position (shares, a lease, vault shares) to one. Paid to itself, its value stays
    ///         frozen where the issuer can see it (the token refuses it or keeps it frozen), so that path is not
    ///         checked here: an honest user claiming to itself pays for no check. Raised when a frozen account
    ///         has value paid to another address (revenue, sale proceeds, a refund, fees, its bond, stake or
    ///         oracle credits, a loan, a surplus, capacity-share collateral or a vault withdrawal), transfers
    ///         capacity shares, vault shares or a lease, or sets a lease's user.
    /// @param account the account the issuer froze (the caller being paid, either side of a transfer, or the
    ///        lease's owner)
    error StablecoinAccountFrozen(address account);
    /// @notice `token` delivered another amount than the one moved (a fee-on-transfer or rebasing token):
    ///         the protocol's accounting cannot carry it, so nothing moves. Raised when a contract pulls tokens
    ///         in and its balance grows by other than the amount asked for.
    /// @param token the token that was moved
    /// @param expected the amount asked for, in the token's base units
    /// @param received the amount that arrived, in the token's base units
    error TokenTransferShort(address token, uint256 expected, uint256 received);
    /// @notice The stablecoin's decimals are outside what the protocol's minimums are defined for. Raised when
    ///         the registry is deployed with a token that has no code or reports fewer than 2 or more than 18
    ///         decimals.
    /// @param token the stablecoin given
    /// @param decimals the decimals it reports (0 when it has no code)
    error StablecoinUnsupported(address token, uint8 decimals);
}
