// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ScheduleLib} from "../../../contracts/libraries/ScheduleLib.sol";
import {Test} from "../utils/Test.sol";

/// @notice The lease schedule's buckets: what a lease adds it removes again exactly, by class.
contract ScheduleLibTest is Test {
    using ScheduleLib for ScheduleLib.Bucket;

    mapping(uint64 epoch => ScheduleLib.Bucket) private _buckets;

    function testFuzz_scheduleThenUndoLeavesNothing(bool firm, uint128 rate, uint32 gpus, uint64 start, uint64 length)
        public
    {
        rate = uint128(bound(rate, 0, type(uint112).max));
        length = uint64(bound(length, 1, 1_000_000));
        start = uint64(bound(start, 0, type(uint64).max - length));
        uint64 end = start + length;
        ScheduleLib.schedule(_buckets, firm, rate, gpus, start, end);
        ScheduleLib.Bucket memory s = _buckets[start];
        ScheduleLib.Bucket memory e = _buckets[end];
        assertEq(firm ? s.firmStart : s.interruptibleStart, rate, "the start carries the rate in its class");
        assertEq(firm ? s.interruptibleStart : s.firmStart, 0, "and nothing in the other class");
        assertEq(firm ? e.firmEnd : e.interruptibleEnd, rate, "the end carries it too");
        assertEq(e.gpusEnding, gpus, "with the GPUs it releases");
        _buckets[start].removeStart(firm, rate);
        _buckets[end].removeEnd(firm, rate, gpus);
        s = _buckets[start];
        e = _buckets[end];
        assertEq(
            uint256(s.firmStart) + s.interruptibleStart + e.firmEnd + e.interruptibleEnd + e.gpusEnding, 0, "undone"
        );
    }

    function test_endSumsAreBoundedBy112Bits() public {
        _buckets[1].addEnd(true, type(uint112).max, 1);
        vm.expectRevert(); // SafeCast: the end sums fit 112 bits
        this.addEnd(1, true, 1, 1);
    }

    function addEnd(uint64 epoch, bool firm, uint128 rate, uint32 gpus) external {
        _buckets[epoch].addEnd(firm, rate, gpus);
    }
}
