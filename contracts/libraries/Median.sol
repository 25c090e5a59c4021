// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title Median
/// @notice Median of a small array (attestor counts are at most 32), sorted in place.
library Median {
    /// @return the lower median: element (n - 1) / 2 of the sorted values
    function compute(uint256[] memory values) internal pure returns (uint256) {
        uint256 n = values.length;
        for (uint256 i = 1; i < n; ++i) {
            uint256 v = values[i];
            uint256 j = i;
            while (j > 0 && values[j - 1] > v) {
                values[j] = values[j - 1];
                --j;
            }
            values[j] = v;
        }
        return values[(n - 1) / 2];
    }
}
