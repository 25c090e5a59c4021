// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title ScheduleLib
/// @notice An asset's lease schedule: per epoch, the rates that start and end there (by class) and the GPUs
///         whose leases end there, so that settling an epoch updates the active rates in O(1) whatever the
///         number of leases.
library ScheduleLib {
    using SafeCast for uint256;

    /// @notice Changes to the per-class active rate that take effect when an epoch is settled (two slots: the
    ///         starts, and the ends with the GPUs of the same leases).
    /// @dev `gpusEnding` are the GPUs of leases whose end is this epoch: they are released when the epoch before
    ///      it is final, so a new lease records its end in one slot. The end sums fit 112 bits (5e33 base units
    ///      an epoch; SafeCast reverts beyond).
    /// @param firmStart sum of the rates of firm leases starting at the epoch
    /// @param interruptibleStart sum of the rates of interruptible leases starting at the epoch
    /// @param firmEnd sum of the rates of firm leases ending at the epoch (first epoch no longer leased)
    /// @param interruptibleEnd sum of the rates of interruptible leases ending at the epoch
    /// @param gpusEnding GPUs of the leases ending at the epoch
    struct Bucket {
        uint128 firmStart;
        uint128 interruptibleStart;
        uint112 firmEnd;
        uint112 interruptibleEnd;
        uint32 gpusEnding;
    }

    /// @notice A new lease of `rate` and `gpus` over epochs [start, end).
    function schedule(
        mapping(uint64 => Bucket) storage buckets,
        bool firm,
        uint128 rate,
        uint32 gpus,
        uint64 start,
        uint64 end
    ) internal {
        if (firm) buckets[start].firmStart += rate;
        else buckets[start].interruptibleStart += rate;
        addEnd(buckets[end], firm, rate, gpus);
    }

    /// @notice Undoes the start {schedule} recorded for the same lease (a cancellation before it started).
    function removeStart(Bucket storage b, bool firm, uint128 rate) internal {
        if (firm) b.firmStart -= rate;
        else b.interruptibleStart -= rate;
    }

    /// @notice A lease of `rate` and `gpus` ends at the bucket's epoch.
    function addEnd(Bucket storage b, bool firm, uint128 rate, uint32 gpus) internal {
        if (firm) b.firmEnd = (uint256(b.firmEnd) + rate).toUint112();
        else b.interruptibleEnd = (uint256(b.interruptibleEnd) + rate).toUint112();
        b.gpusEnding += gpus;
    }

    /// @notice Undoes an {addEnd} of the same lease: its rate is part of the sum, so the cast is exact.
    function removeEnd(Bucket storage b, bool firm, uint128 rate, uint32 gpus) internal {
        if (firm) b.firmEnd -= uint112(rate);
        else b.interruptibleEnd -= uint112(rate);
        b.gpusEnding -= gpus;
    }
}
