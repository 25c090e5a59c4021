// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";

import {EpochIndex} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {Constants} from "../../../contracts/libraries/Constants.sol";
import {SettlementLib} from "../../../contracts/libraries/SettlementLib.sol";

/// @notice The settlement arithmetic on its own: every rounding direction and bound, fuzzed.
contract SettlementLibTest is Test {
    uint256 private constant BPS = Constants.BPS;
    uint256 private constant SCALE = Constants.SCALE;

    mapping(uint64 => EpochIndex) private _indices;

    function testFuzz_splitFees_conservesAndRoundsFeesDown(uint128 amount, uint16 protocolBps, uint16 operatorBps)
        public
        pure
    {
        protocolBps = uint16(bound(protocolBps, 0, 2_000));
        operatorBps = uint16(bound(operatorBps, 0, 5_000));
        (uint256 protocolFee, uint256 operatorFee, uint256 holders) =
            SettlementLib.splitFees(amount, protocolBps, operatorBps);
        assertEq(protocolFee + operatorFee + holders, amount, "conserved to the unit");
        assertLe(protocolFee * BPS, uint256(amount) * protocolBps, "protocol fee rounds down");
        assertGt((protocolFee + 1) * BPS, uint256(amount) * protocolBps, "by less than a unit");
        assertLe(operatorFee * BPS, uint256(amount) * operatorBps, "operator fee rounds down");
        assertGt((operatorFee + 1) * BPS, uint256(amount) * operatorBps, "by less than a unit");
    }

    function test_splitFees_roundsTheRestToHolders() public pure {
        // 999 x 5 % = 49.95 and x 10 % = 99.9: the fees take 49 and 99, the holders the 851 left
        (uint256 protocolFee, uint256 operatorFee, uint256 holders) = SettlementLib.splitFees(999, 500, 1_000);
        assertEq(protocolFee, 49, "protocolFee");
        assertEq(operatorFee, 99, "operatorFee");
        assertEq(holders, 851, "holders");
    }

    function testFuzz_fractions(bool proven, uint16 uptime, uint16 curtailed) public pure {
        uptime = uint16(bound(uptime, 0, BPS));
        curtailed = uint16(bound(curtailed, 0, BPS));
        (uint256 firm, uint256 interruptible) = SettlementLib.fractions(proven, uptime, curtailed);
        if (!proven) {
            assertEq(firm + interruptible, 0, "no proof, no pay");
            return;
        }
        assertEq(firm, uint256(uptime) * BPS, "firm");
        assertEq(interruptible, uint256(uptime) * (BPS - curtailed), "curtailed time is not charged");
        assertLe(interruptible, firm, "interruptible");
        assertLe(firm, SCALE, "firm");
    }

    function testFuzz_delivered_carriesTheRemainderExactly(
        uint32 remainder,
        uint96 firmRate,
        uint32 firmFraction,
        uint96 interruptibleRate,
        uint32 interruptibleFraction
    ) public pure {
        remainder = uint32(bound(remainder, 0, SCALE - 1));
        firmFraction = uint32(bound(firmFraction, 0, SCALE));
        interruptibleFraction = uint32(bound(interruptibleFraction, 0, SCALE));
        (uint256 value, uint32 carried) =
            SettlementLib.delivered(remainder, firmRate, firmFraction, interruptibleRate, interruptibleFraction);
        uint256 scaled =
            remainder + uint256(firmRate) * firmFraction + uint256(interruptibleRate) * interruptibleFraction;
        assertEq(value * SCALE + carried, scaled, "nothing lost, nothing made");
        assertLt(carried, SCALE, "less than a unit carried");
    }

    /// @dev The escrow's solvency in one epoch: what leases are charged (each rounded up) is never less than what
    ///      the epoch moves to revenue (the sum rounded down).
    function testFuzz_leasesAreChargedAtLeastWhatRevenueTakes(uint96 rateA, uint96 rateB, uint32 fraction) public pure {
        fraction = uint32(bound(fraction, 0, SCALE));
        (uint256 revenue,) = SettlementLib.delivered(0, uint256(rateA) + rateB, fraction, 0, 0);
        uint256 charged = SettlementLib.valueUp(rateA, fraction) + SettlementLib.valueUp(rateB, fraction);
        assertGe(charged, revenue, "charged");
        assertLe(charged, revenue + 2, "each lease pays at most a unit above its exact share");
    }

    function testFuzz_valueUpAndDown(uint128 rate, uint32 fraction) public pure {
        fraction = uint32(bound(fraction, 0, SCALE));
        uint256 up = SettlementLib.valueUp(rate, fraction);
        uint256 down = SettlementLib.valueDown(rate, fraction);
        assertEq(down, uint256(rate) * fraction / SCALE, "down is the floor");
        assertEq(up, down + (uint256(rate) * fraction % SCALE == 0 ? 0 : 1), "up is the ceiling");
    }

    function testFuzz_cappedCredit_neverAsksMoreThanAvailable(uint96 rate, uint32 fraction, uint128 available)
        public
        pure
    {
        vm.assume(rate != 0);
        fraction = uint32(bound(fraction, 0, SCALE));
        (uint256 capped, uint256 needed) = SettlementLib.cappedCredit(rate, fraction, available);
        uint256 full = SettlementLib.valueUp(rate, fraction);
        if (full <= available) {
            assertEq(capped, fraction, "uncapped: the whole fraction");
            assertEq(needed, full, "needed");
        } else {
            assertLe(needed, available, "capped: never more than the bond holds");
            assertLe(capped, fraction, "capped");
            assertEq(needed, SettlementLib.valueUp(rate, capped), "the credit is the capped fraction's value");
        }
    }

    function test_cappedCredit_atTheBoundary() public pure {
        // a credit of exactly what is available is not capped (`>`, not `>=`)
        (uint256 capped, uint256 needed) = SettlementLib.cappedCredit(1_000, SCALE / 10, 100);
        assertEq(capped, SCALE / 10, "capped");
        assertEq(needed, 100, "needed");
        // a fraction whose credit rounds up to exactly what is available keeps its own value: capping it would
        // raise it to what 100 buys, crediting lessees more than the shortfall
        (capped, needed) = SettlementLib.cappedCredit(1_000, SCALE / 10 - 1, 100);
        assertEq(capped, SCALE / 10 - 1, "not capped at equality");
        assertEq(needed, 100, "rounded up");
        // one unit short: the fraction is cut to what 99 buys
        (capped, needed) = SettlementLib.cappedCredit(1_000, SCALE / 10, 99);
        assertEq(capped, 99 * SCALE / 1_000, "capped");
        assertEq(needed, 99, "needed");
    }

    function test_recordIndex_accumulates() public {
        vm.warp(1_000);
        SettlementLib.recordIndex(_indices, 0, 7, 5, 3);
        vm.warp(2_000);
        SettlementLib.recordIndex(_indices, 1, 10, 20, 0);
        EpochIndex memory i = _indices[1];
        assertEq(i.firmDelivered, 17, "i.firmDelivered");
        assertEq(i.interruptibleDelivered, 25, "i.interruptibleDelivered");
        assertEq(i.serviceCredit, 3, "i.serviceCredit");
        assertEq(i.finalizedAt, 2_000, "i.finalizedAt");
        assertEq(_indices[0].finalizedAt, 1_000, "_indices[0].finalizedAt");
    }
}
