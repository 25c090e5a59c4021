// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {PricingCurve} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {PricingLib} from "../../../contracts/libraries/PricingLib.sol";
import {Test} from "../utils/Test.sol";

/// @notice The pricing curve over random curves the registry accepts and random asset sizes (the symbolic
///         versions in test/forge/symbolic are not a gate yet: see analysis/halmos.md).
contract PricingLibTest is Test {
    uint256 private constant BPS = 10_000;

    function testFuzz_price_MonotoneInUtilization(
        uint128 base,
        uint16 kink,
        uint32 slope1,
        uint32 slope2,
        uint16 discount,
        uint32 gpuCount,
        uint32 usedLow,
        uint32 usedHigh,
        bool interruptible
    ) public pure {
        base = uint128(bound(base, 1, type(uint128).max));
        kink = uint16(bound(kink, 1, BPS));
        discount = uint16(bound(discount, 0, BPS - 1));
        gpuCount = uint32(bound(gpuCount, 1, type(uint32).max));
        usedHigh = uint32(bound(usedHigh, 0, gpuCount));
        usedLow = uint32(bound(usedLow, 0, usedHigh));
        PricingCurve memory c = PricingCurve(base, kink, slope1, slope2, discount);
        LeaseClass class = interruptible ? LeaseClass.Interruptible : LeaseClass.Firm;
        uint256 low = PricingLib.price(c, gpuCount, usedLow, class);
        assertLe(low, PricingLib.price(c, gpuCount, usedHigh, class), "monotone in utilization");
        assertGe(low, _floor(c, interruptible), "floor");
    }

    /// @dev The base price is a floor for firm leases; interruptible pays at least base x (1 - discount).
    function _floor(PricingCurve memory c, bool interruptible) private pure returns (uint256) {
        if (!interruptible) return c.basePricePerGpuHour;
        return (uint256(c.basePricePerGpuHour) * (BPS - c.interruptibleDiscountBps) + BPS - 1) / BPS;
    }

    function testFuzz_multiplier_MeetsAtTheKink(uint16 kink, uint32 slope1, uint32 slope2) public pure {
        kink = uint16(bound(kink, 1, BPS));
        PricingCurve memory c = PricingCurve(1, kink, slope1, slope2, 0);
        assertEq(PricingLib.multiplierBps(c, kink), BPS + slope1, "continuous at the kink");
        assertEq(PricingLib.multiplierBps(c, 0), BPS, "1 at zero utilization");
    }
}
