// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title ERC-4907: rental NFT, an ERC-721 extension with a time-limited user role.
interface IERC4907 {
    /// @notice Emitted when the user of an NFT or its expiry changes (address zero: no user). The LeaseMarket
    ///         emits it when a lease's owner (or an approved operator) sets a user, and, with a zero user and a
    ///         zero expiry, when a transfer of the lease clears the user it had.
    /// @param tokenId the NFT (for the LeaseMarket, the lease id)
    /// @param user the new user; zero when there is none
    /// @param expires unix time (seconds) until which `user` may use the NFT
    event UpdateUser(uint256 indexed tokenId, address indexed user, uint64 expires);

    /// @notice Sets the user of `tokenId` and when that role expires (unix seconds); owner or approved only.
    function setUser(uint256 tokenId, address user, uint64 expires) external;
    /// @notice The current user of `tokenId`; zero when there is none or its role has expired.
    function userOf(uint256 tokenId) external view returns (address);
    /// @notice When the user role of `tokenId` expires (unix seconds), whether or not it is still current.
    function userExpires(uint256 tokenId) external view returns (uint256);
}
