// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title SharesMathLib
/// @notice Debt shares and the assets they are worth, with virtual shares and assets against the inflation of a
///         near-empty pool (as Morpho Blue's `SharesMathLib`). Borrowers round against themselves: the shares a
///         loan mints and the debt shares are worth round up; the shares a repayment burns round down.
library SharesMathLib {
    /// @notice Virtual debt shares per unit of virtual debt.
    uint256 internal constant VIRTUAL_SHARES = 1e6;
    /// @notice Virtual debt.
    uint256 internal constant VIRTUAL_ASSETS = 1;

    /// @notice The shares `assets` of debt are worth, rounded up.
    function toSharesUp(uint256 assets, uint256 totalAssets, uint256 totalShares) internal pure returns (uint256) {
        return Math.mulDiv(assets, totalShares + VIRTUAL_SHARES, totalAssets + VIRTUAL_ASSETS, Math.Rounding.Ceil);
    }

    /// @notice The shares `assets` of debt are worth, rounded down.
    function toSharesDown(uint256 assets, uint256 totalAssets, uint256 totalShares) internal pure returns (uint256) {
        return Math.mulDiv(assets, totalShares + VIRTUAL_SHARES, totalAssets + VIRTUAL_ASSETS);
    }

    /// @notice The debt `shares` are worth, rounded up (zero shares owe nothing).
    function toAssetsUp(uint256 shares, uint256 totalAssets, uint256 totalShares) internal pure returns (uint256) {
        // slither-disable-next-line incorrect-equality (debt shares, not a balance)
        if (shares == 0) return 0;
        return Math.mulDiv(shares, totalAssets + VIRTUAL_ASSETS, totalShares + VIRTUAL_SHARES, Math.Rounding.Ceil);
    }
}
