// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";

import {SharesMathLib} from "../../../contracts/libraries/SharesMathLib.sol";

/// @notice Debt shares round against the borrower, whatever the pool's totals.
contract SharesMathLibTest is Test {
    function testFuzz_roundingFavoursThePool(uint128 assets, uint128 totalAssets, uint128 totalShares) public pure {
        uint256 up = SharesMathLib.toSharesUp(assets, totalAssets, totalShares);
        uint256 down = SharesMathLib.toSharesDown(assets, totalAssets, totalShares);
        assertGe(up, down, "a loan mints at least what a repayment of the same amount burns");
        assertLe(up - down, 1, "up - down");
        // a borrower owes at least what it borrowed, once the loan's shares join the totals
        uint256 owed = SharesMathLib.toAssetsUp(up, uint256(totalAssets) + assets, uint256(totalShares) + up);
        assertGe(owed, assets, "never owes less than it borrowed");
    }

    function test_zeroSharesOweNothing() public pure {
        assertEq(SharesMathLib.toAssetsUp(0, 1e30, 1e12), 0, "SharesMathLib.toAssetsUp(0");
    }

    function test_virtualSharesOfAnEmptyPool() public pure {
        // an empty pool prices a unit of debt at VIRTUAL_SHARES / VIRTUAL_ASSETS shares
        assertEq(
            SharesMathLib.toSharesUp(1, 0, 0),
            SharesMathLib.VIRTUAL_SHARES / SharesMathLib.VIRTUAL_ASSETS,
            "SharesMathLib.toSharesUp(1"
        );
        assertEq(SharesMathLib.toAssetsUp(1, 0, 0), 1, "rounded up: a share of an empty pool owes a unit");
    }
}
