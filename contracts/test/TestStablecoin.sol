// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title TestStablecoin
/// @notice A devnet stablecoin that behaves like USDC where it matters to Wellhead: 6 decimals, EIP-2612
///         permit, EIP-3009 transfers with authorization, an issuer's blocklist read as USDC's
///         `isBlacklisted(address)` (neither sending nor receiving) and a global pause.
/// @dev For devnets and tests only; real deployments use the chain's USDC.
contract TestStablecoin is ERC20Permit, Pausable, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant BLOCKLISTER_ROLE = keccak256("BLOCKLISTER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    error StablecoinBlocklisted(address account);
    error StablecoinAuthorizationInvalid(address from, bytes32 nonce);

    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );

    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    mapping(address authorizer => mapping(bytes32 nonce => bool)) public authorizationState;

    event Blocklisted(address indexed account, bool blocked);

    mapping(address account => bool) public isBlacklisted;

    constructor(address admin) ERC20("Test USD Coin", "tUSDC") ERC20Permit("Test USD Coin") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
        _grantRole(BLOCKLISTER_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    function setBlocklisted(address account, bool blocked) external onlyRole(BLOCKLISTER_ROLE) {
        isBlacklisted[account] = blocked;
        emit Blocklisted(account, blocked);
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @notice EIP-3009: moves `value` from `from` to `to` on `from`'s signature (anyone may submit it).
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _useAuthorization(
            TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s
        );
        _transfer(from, to, value);
    }

    /// @notice EIP-3009: as {transferWithAuthorization}, but only `to` may submit it (no front-running).
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        if (to != msg.sender) revert StablecoinAuthorizationInvalid(from, nonce);
        _useAuthorization(RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce, v, r, s);
        _transfer(from, to, value);
    }

    function _useAuthorization(
        bytes32 typehash,
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) private whenNotPaused {
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(typehash, from, to, value, validAfter, validBefore, nonce))
        );
        if (
            block.timestamp <= validAfter || block.timestamp >= validBefore || authorizationState[from][nonce]
                || ECDSA.recover(digest, v, r, s) != from
        ) revert StablecoinAuthorizationInvalid(from, nonce);
        authorizationState[from][nonce] = true;
        emit AuthorizationUsed(from, nonce);
    }

    function _update(address from, address to, uint256 value) internal override whenNotPaused {
        if (isBlacklisted[from]) revert StablecoinBlocklisted(from);
        if (isBlacklisted[to]) revert StablecoinBlocklisted(to);
        if (isBlacklisted[msg.sender]) revert StablecoinBlocklisted(msg.sender);
        super._update(from, to, value);
    }
}
