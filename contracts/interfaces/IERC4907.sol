// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title ERC-4907: rental NFT, an ERC-721 extension with a time-limited user role.
interface IERC4907 {
    /// @notice Emitted when the user of an NFT or its expiry changes (address zero: no user).
    event UpdateUser(uint256 indexed tokenId, address indexed user, uint64 expires);

    function setUser(uint256 tokenId, address user, uint64 expires) external;
    function userOf(uint256 tokenId) external view returns (address);
    function userExpires(uint256 tokenId) external view returns (uint256);
}
