// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @notice Where a deployment reads its stablecoin issuer's blocklist: `selector(address) returns (bool)`
///         on `target`. USDC (FiatToken) and EURC answer `isBlacklisted(address)` on the token itself, USDT
///         `isBlackListed(address)`, PYUSD `isFrozen(address)`. A zero target means the token has no blocklist.
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
    ///         checked here: an honest user claiming to itself pays for no check.
    error StablecoinAccountFrozen(address account);
    /// @notice `token` delivered another amount than the one moved (a fee-on-transfer or rebasing token):
    ///         the protocol's accounting cannot carry it, so nothing moves.
    error TokenTransferShort(address token, uint256 expected, uint256 received);
    /// @notice The stablecoin's decimals are outside what the protocol's minimums are defined for.
    error StablecoinUnsupported(address token, uint8 decimals);
}
