// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {Blocklist, IStablecoinGuard} from "../interfaces/IStablecoinGuard.sol";

/// @title StablecoinLib
/// @notice How every Wellhead contract takes the stablecoin in and checks the issuer's freeze.
/// @dev Internal functions only: inlined into each contract, no deployed library to link.
library StablecoinLib {
    using SafeERC20 for IERC20;

    /// @notice The decimals the protocol's minimums (a hundredth of a coin at least) are defined for.
    uint8 internal constant MIN_DECIMALS = 2;
    uint8 internal constant MAX_DECIMALS = 18;

    /// @notice Moves exactly `amount` from `from` to this contract, or reverts: the balance received is
    ///         measured, so a token that takes a fee or rebases on transfer is refused rather than
    ///         mis-accounted (the protocol would owe more than it holds).
    function pullExact(IERC20 token, address from, uint256 amount) internal {
        uint256 before = token.balanceOf(address(this));
        // slither-disable-next-line arbitrary-send-erc20 (every caller passes its own msg.sender, the payer)
        token.safeTransferFrom(from, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert IStablecoinGuard.TokenTransferShort(address(token), amount, received);
    }

    /// @notice Whether the issuer froze `account`. A deployment without a blocklist (zero target) never
    ///         freezes anyone; a target that does not answer counts as "not frozen", so a broken or
    ///         removed blocklist can never lock the protocol.
    function isFrozen(Blocklist memory list, address account) internal view returns (bool frozen) {
        if (list.target == address(0)) return false;
        (bool ok, bytes memory ret) = list.target.staticcall(abi.encodeWithSelector(list.selector, account));
        return ok && ret.length >= 32 && abi.decode(ret, (bool));
    }

    /// @notice Reverts when the issuer froze `account`.
    function requireNotFrozen(Blocklist memory list, address account) internal view {
        if (isFrozen(list, account)) revert IStablecoinGuard.StablecoinAccountFrozen(account);
    }

    /// @notice Whether the token says it is paused (FiatToken, OpenZeppelin Pausable); false if it cannot say.
    function isPaused(IERC20 token) internal view returns (bool) {
        (bool ok, bytes memory ret) = address(token).staticcall(abi.encodeWithSignature("paused()"));
        return ok && ret.length >= 32 && abi.decode(ret, (bool));
    }

    /// @notice Reverts unless `token` has code and decimals the protocol supports; returns one whole coin.
    function wholeCoin(IERC20 token) internal view returns (uint256) {
        if (address(token).code.length == 0) revert IStablecoinGuard.StablecoinUnsupported(address(token), 0);
        uint8 d = IERC20Metadata(address(token)).decimals();
        if (d < MIN_DECIMALS || d > MAX_DECIMALS) revert IStablecoinGuard.StablecoinUnsupported(address(token), d);
        return 10 ** d;
    }
}
