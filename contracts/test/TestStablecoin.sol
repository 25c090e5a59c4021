// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title TestStablecoin
/// @notice A devnet stablecoin that behaves like USDC where it matters to Wellhead: 6 decimals, EIP-2612
///         permit, an issuer's blocklist (neither sending nor receiving) and a global pause.
/// @dev For devnets and tests only; real deployments use the chain's USDC.
contract TestStablecoin is ERC20Permit, Pausable, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant BLOCKLISTER_ROLE = keccak256("BLOCKLISTER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    error StablecoinBlocklisted(address account);

    event Blocklisted(address indexed account, bool blocked);

    mapping(address account => bool) public isBlocklisted;

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
        isBlocklisted[account] = blocked;
        emit Blocklisted(account, blocked);
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    function _update(address from, address to, uint256 value) internal override whenNotPaused {
        if (isBlocklisted[from]) revert StablecoinBlocklisted(from);
        if (isBlocklisted[to]) revert StablecoinBlocklisted(to);
        if (isBlocklisted[msg.sender]) revert StablecoinBlocklisted(msg.sender);
        super._update(from, to, value);
    }
}
