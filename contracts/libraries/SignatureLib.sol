// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title SignatureLib
/// @notice Signers of 65-byte (r, s, v) signatures packed in calldata.
library SignatureLib {
    /// @notice The length of one signature: r, s and v.
    uint256 internal constant LENGTH = 65;

    /// @notice The signer of the `i`-th 65-byte signature (r, s, v) in `sigs`, zero for an invalid one. Every
    ///      encoding of a genuine signature counts as its signer's: v as 0/1 or 27/28, and s in either half of
    ///      the curve order (the twin (r, n - s) with the other v; the precompile accepts both halves, unlike
    ///      OpenZeppelin's ECDSA, and recovers the same key). Agents and eth-account accept all of them, so the
    ///      chain must too: otherwise a faulty attestor could re-encode its own (or a relayed) signature and
    ///      have honest co-signers slashed for "forging" it. Nothing is identified by signature bytes:
    ///      duplicates are caught by signer.
    function recover(bytes32 digest, bytes calldata sigs, uint256 i) internal pure returns (address) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        // the caller checked that sigs holds at least i + 1 signatures of 65 bytes
        assembly ("memory-safe") {
            let p := add(sigs.offset, mul(i, LENGTH))
            r := calldataload(p)
            s := calldataload(add(p, 0x20))
            v := byte(0, calldataload(add(p, 0x40)))
        }
        if (v < 27) v += 27;
        return ecrecover(digest, v, r, s); // zero for any v other than 27 or 28, or r or s out of range
    }
}
