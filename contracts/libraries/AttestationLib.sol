// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title AttestationLib
/// @notice The fault model: how many observations and co-signatures a report needs (the aggregation itself is
///         `ObservationsLib.aggregate`).
/// @dev Why the numbers: an asset has n attestors of which at most f are faulty (they may lie, stay silent,
///      sign conflicting observations or collude).
///      - A report needs q = 2f+1 observations of distinct attestors. Of any q observations at most f are
///        lies, so at least f+1 are honest. The lower median of m >= q sorted values sits at position
///        k = (m-1)/2 >= f: at least k+1 >= f+1 values are <= it and m-k >= f+1 values are >= it, so on each
///        side at least one value is honest. Whatever subset and order anybody submits, every median lies
///        within [min, max] of the honest observations.
///      - f silent attestors must not stop a report: the n - f others must still reach q, so n >= 3f+1.
///      - A report needs f+1 co-signers. At least one of them is honest, and an honest co-signer signs only
///        a report whose every observation carries a valid signature of its observer; that is what lets the
///        contract skip checking observation signatures on the hot path (and anyone can prove it otherwise).
library AttestationLib {
    /// @notice Observations a report needs: 2f + 1.
    function quorum(uint256 f) internal pure returns (uint256) {
        return 2 * f + 1;
    }

    /// @notice Co-signatures a report needs: f + 1 (at least one honest).
    function cosignersNeeded(uint256 f) internal pure returns (uint256) {
        return f + 1;
    }

    /// @notice Attestors an asset needs to tolerate f faulty ones and stay live: 3f + 1.
    function minAttestors(uint256 f) internal pure returns (uint256) {
        return 3 * f + 1;
    }

    /// @notice Whether n attestors can tolerate f faulty ones (and fit a 32-bit attestor bitmap).
    function isValidFaultModel(uint256 n, uint256 f) internal pure returns (bool) {
        return n >= minAttestors(f) && n <= 32;
    }

    /// @notice Number of set bits.
    function popcount(uint256 bits) internal pure returns (uint256 count) {
        while (bits != 0) {
            bits &= bits - 1;
            ++count;
        }
    }
}
