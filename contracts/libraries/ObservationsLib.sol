// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IMetricsOracle} from "../interfaces/IMetricsOracle.sol";
import {Constants} from "./Constants.sol";

/// @title ObservationsLib
/// @notice A report's observations, packed in calldata: one validating pass, their EIP-712 struct hashes and the
///         medians settlement uses.
/// @dev Packed layout of one observation (73 bytes, big-endian), the fields of `Observation` in order:
///
///      | field             | bytes | offset |
///      |-------------------|-------|--------|
///      | observer          | 1     | 0      |
///      | uptimeBps         | 2     | 1      |
///      | curtailedBps      | 2     | 3      |
///      | gpuEnergyWh       | 8     | 5      |
///      | facilityEnergyWh  | 8     | 13     |
///      | miningEnergyWh    | 8     | 21     |
///      | miningRevenue     | 8     | 29     |
///      | renewableBps      | 2     | 37     |
///      | carbonGramsPerKwh | 2     | 39     |
///      | evidenceHash      | 32    | 41     |
///
///      Packing keeps calldata (mostly zero bytes in the ABI's 32-byte words) to a third. The bps fields and the
///      carbon intensity fit 16 bits (their bounds are 10,000 and 2,000); the EIP-712 type attestors sign keeps
///      Solidity's `Observation` widths, and `hash` widens each field to its 32-byte word exactly as EIP-712
///      encodes it, so the signed struct hash is the same.
library ObservationsLib {
    uint256 internal constant SIZE = 73; // bytes per packed observation
    uint256 internal constant BPS = Constants.BPS;
    /// @dev Carbon intensity above this (g/kWh) is not physical: the dirtiest grids are near 1,200.
    uint256 internal constant MAX_CARBON_G_PER_KWH = 2_000;
    /// @dev Byte offset of field f (0..9) in byte f of the word.
    bytes32 private constant OFFSETS = 0x000103050d151d25272900000000000000000000000000000000000000000000;
    /// @dev Right shift that leaves field f (0..9) alone in a word loaded at its offset: 256 - 8 x its width.
    bytes32 private constant SHIFTS = 0xf8f0f0c0c0c0c0f0f00000000000000000000000000000000000000000000000;

    /// @notice Field f (0: observer, 1..8: uptimeBps .. carbonGramsPerKwh, 9: evidenceHash) of observation i.
    function field(bytes calldata obs, uint256 i, uint256 f) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(byte(f, SHIFTS), calldataload(add(obs.offset, add(mul(i, SIZE), byte(f, OFFSETS)))))
        }
    }

    /// @notice Number of packed observations (the length must be a multiple of 73).
    function count(bytes calldata obs) internal pure returns (uint256 n) {
        if (obs.length % SIZE != 0) revert IMetricsOracle.OracleObservationsLength(obs.length, SIZE);
        n = obs.length / SIZE;
    }

    /// @notice Checks every observation: observers ascending within 1..n, every value possible.
    /// @return observers bitmap of the observers (bit i: attestor index i + 1)
    function check(bytes calldata obs, uint256 k, uint256 n, uint256 maxWh) internal pure returns (uint32 observers) {
        uint256 previous = 0;
        for (uint256 i; i < k; ++i) {
            uint256 observer = field(obs, i, 0);
            if (observer <= previous || observer > n) {
                revert IMetricsOracle.OracleObserverOutOfOrder(i, observer, previous, n);
            }
            previous = observer;
            // observer <= n <= 32: the bit fits
            observers |= uint32(1 << (observer - 1));
            _checkValues(obs, i, observer, maxWh);
        }
    }

    function _checkValues(bytes calldata obs, uint256 i, uint256 who, uint256 maxWh) private pure {
        uint256 v = field(obs, i, 1);
        if (v > BPS) revert IMetricsOracle.OracleValueOutOfRange(who, "uptimeBps", v, BPS);
        v = field(obs, i, 2);
        if (v > BPS) revert IMetricsOracle.OracleValueOutOfRange(who, "curtailedBps", v, BPS);
        v = field(obs, i, 7);
        if (v > BPS) revert IMetricsOracle.OracleValueOutOfRange(who, "renewableBps", v, BPS);
        v = field(obs, i, 8);
        if (v > MAX_CARBON_G_PER_KWH) {
            revert IMetricsOracle.OracleValueOutOfRange(who, "carbonGramsPerKwh", v, MAX_CARBON_G_PER_KWH);
        }
        uint256 gpu = field(obs, i, 3);
        if (gpu > maxWh) revert IMetricsOracle.OracleEnergyAboveCapacity(who, gpu, maxWh);
        uint256 facility = field(obs, i, 4);
        uint256 mining = field(obs, i, 5);
        // both are 64-bit fields: the sum cannot overflow
        if (facility < gpu + mining) revert IMetricsOracle.OracleFacilityBelowLoad(who, facility, gpu, mining);
    }

    /// @notice The EIP-712 struct hash of each observation, and of the array (keccak of the hashes).
    function hash(bytes calldata obs, uint256 k, bytes32 typehash)
        internal
        pure
        returns (bytes32 arrayHash, bytes32[] memory hashes)
    {
        hashes = new bytes32[](k);
        assembly ("memory-safe") {
            // typehash || the ten fields, each widened to a word, past the free pointer (scratch)
            let scratch := mload(0x40)
            mstore(scratch, typehash)
            let out := add(hashes, 0x20)
            for { let i := 0 } lt(i, k) { i := add(i, 1) } {
                let base := add(obs.offset, mul(i, SIZE))
                mstore(add(scratch, 0x20), shr(248, calldataload(base))) // observer
                mstore(add(scratch, 0x40), shr(240, calldataload(add(base, 1)))) // uptimeBps
                mstore(add(scratch, 0x60), shr(240, calldataload(add(base, 3)))) // curtailedBps
                mstore(add(scratch, 0x80), shr(192, calldataload(add(base, 5)))) // gpuEnergyWh
                mstore(add(scratch, 0xa0), shr(192, calldataload(add(base, 13)))) // facilityEnergyWh
                mstore(add(scratch, 0xc0), shr(192, calldataload(add(base, 21)))) // miningEnergyWh
                mstore(add(scratch, 0xe0), shr(192, calldataload(add(base, 29)))) // miningRevenue
                mstore(add(scratch, 0x100), shr(240, calldataload(add(base, 37)))) // renewableBps
                mstore(add(scratch, 0x120), shr(240, calldataload(add(base, 39)))) // carbonGramsPerKwh
                mstore(add(scratch, 0x140), calldataload(add(base, 41))) // evidenceHash
                mstore(add(out, mul(i, 0x20)), keccak256(scratch, 0x160))
            }
            arrayHash := keccak256(out, mul(k, 0x20))
        }
    }

    /// @notice The lower medians of uptime and curtailment over the observations whose observer is not in
    ///         `excluded` (bit i: observer i + 1): what settlement uses.
    /// @return uptimeBps the median uptime
    /// @return curtailedBps the median curtailed share
    /// @return included how many observations took part
    function settlementMedians(bytes calldata obs, uint256 k, uint256 excluded)
        internal
        pure
        returns (uint256 uptimeBps, uint256 curtailedBps, uint256 included)
    {
        if (excluded == 0 && k == 3) {
            // f = 1 without exclusions: max(min(a, b), min(max(a, b), c)) of each
            uint256 o0 = _base(obs, 0);
            uint256 o1 = _base(obs, 1);
            uint256 o2 = _base(obs, 2);
            uptimeBps = _med3(_at(o0, 1, 240), _at(o1, 1, 240), _at(o2, 1, 240));
            curtailedBps = _med3(_at(o0, 3, 240), _at(o1, 3, 240), _at(o2, 3, 240));
            return (uptimeBps, curtailedBps, 3);
        }
        uint256[] memory up = new uint256[](k);
        uint256[] memory cut = new uint256[](k);
        // one pass over calldata: each participating observation's uptime and curtailment
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, k) { i := add(i, 1) } {
                let base := add(obs.offset, mul(i, SIZE))
                if iszero(and(shr(sub(shr(248, calldataload(base)), 1), excluded), 1)) {
                    let at := add(0x20, mul(included, 0x20))
                    mstore(add(up, at), shr(240, calldataload(add(base, 1))))
                    mstore(add(cut, at), shr(240, calldataload(add(base, 3))))
                    included := add(included, 1)
                }
            }
        }
        if (included == 0) return (0, 0, 0);
        uptimeBps = _lowerMedian(up, included);
        curtailedBps = _lowerMedian(cut, included);
    }

    /// @dev Calldata position of observation i.
    function _base(bytes calldata obs, uint256 i) private pure returns (uint256 base) {
        assembly ("memory-safe") {
            base := add(obs.offset, mul(i, SIZE))
        }
    }

    /// @dev The field at byte `offset` of the observation at calldata position `base`, `shift` = 256 - its bits.
    function _at(uint256 base, uint256 offset, uint256 shift) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(shift, calldataload(add(base, offset)))
        }
    }

    function _med3(uint256 a, uint256 b, uint256 c) private pure returns (uint256) {
        (uint256 lo, uint256 hi) = a > b ? (b, a) : (a, b);
        if (c < hi) hi = c;
        return lo > hi ? lo : hi;
    }

    /// @dev Element (n - 1) / 2 of the first n values sorted (insertion sort in place; 1 <= n <= 32).
    function _lowerMedian(uint256[] memory values, uint256 n) private pure returns (uint256 median) {
        assembly ("memory-safe") {
            let base := add(values, 0x20)
            for { let i := 1 } lt(i, n) { i := add(i, 1) } {
                let x := mload(add(base, mul(i, 0x20)))
                let j := i
                for {} gt(j, 0) { j := sub(j, 1) } {
                    let y := mload(add(base, mul(sub(j, 1), 0x20)))
                    if iszero(gt(y, x)) { break }
                    mstore(add(base, mul(j, 0x20)), y)
                }
                mstore(add(base, mul(j, 0x20)), x)
            }
            median := mload(add(base, mul(shr(1, sub(n, 1)), 0x20)))
        }
    }
}
