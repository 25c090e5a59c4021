// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title Constants
/// @notice The protocol's fixed scales, in one place (the Python side mirrors them in `wellhead.core.constants`).
library Constants {
    /// @notice Basis points: 100 %.
    uint256 internal constant BPS = 10_000;
    /// @notice A settlement fraction's scale: basis points of basis points (uptime x un-curtailed time).
    uint256 internal constant SCALE = 1e8;
    /// @notice 1.0 in 18-decimal fixed point (health factors, whole shares).
    uint256 internal constant WAD = 1e18;
}
