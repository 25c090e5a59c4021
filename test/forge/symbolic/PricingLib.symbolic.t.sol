// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {PricingCurve} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {PricingLib} from "../../../contracts/libraries/PricingLib.sol";

/// @notice Symbolic (halmos, `make halmos`): every argument of a `check_` function is symbolic, so a pass
///         holds for all values the registry accepts, not a sample of them. forge ignores `check_` functions.
///         Not a gate yet: the solvers time out on these queries (analysis/halmos.md); the fuzz versions in
///         test/forge/unit/PricingLib.t.sol run in `make test`.
contract PricingLibSymbolicTest {
    uint256 private constant BPS = 10_000;

    /// @dev More utilization never lowers the price: for every base price, slopes, discount, both lease
    ///      classes and every pair of utilizations, on assets of 8, 100 and 4,096 GPUs with the kink at
    ///      50 % and 80 %. The sizes and kinks are fixed because division by a symbolic 256-bit divisor is
    ///      beyond the SMT solvers' reach here (yices, z3 and bitwuzla all time out); the fuzz tests cover
    ///      random sizes and kinks.
    function check_priceIsMonotoneInUtilization(
        uint128 base,
        uint32 slope1,
        uint32 slope2,
        uint16 discount,
        uint32 usedLow,
        uint32 usedHigh,
        bool interruptible,
        uint8 shape
    ) external pure {
        uint32[3] memory sizes = [uint32(8), 100, 4_096];
        uint32 gpuCount = sizes[shape % 3];
        uint16 kink = shape % 2 == 0 ? 5_000 : 8_000;
        if (base == 0 || discount >= BPS || usedLow > usedHigh || usedHigh > gpuCount) return;
        PricingCurve memory c = PricingCurve(base, kink, slope1, slope2, discount);
        LeaseClass class = interruptible ? LeaseClass.Interruptible : LeaseClass.Firm;
        assert(PricingLib.price(c, gpuCount, usedLow, class) <= PricingLib.price(c, gpuCount, usedHigh, class));
    }

    /// @dev The multiplier is at least 1 (the base price is a floor), never falls as utilization rises,
    ///      and meets at the kink from both sides.
    function check_multiplierIsMonotone(uint32 slope1, uint32 slope2, uint16 utilLow, uint16 utilHigh, bool steepKink)
        external
        pure
    {
        uint16 kink = steepKink ? 9_000 : 8_000;
        if (utilLow > utilHigh || utilHigh > BPS) return;
        PricingCurve memory c = PricingCurve(1, kink, slope1, slope2, 0);
        assert(PricingLib.multiplierBps(c, utilLow) >= BPS);
        assert(PricingLib.multiplierBps(c, utilLow) <= PricingLib.multiplierBps(c, utilHigh));
        assert(PricingLib.multiplierBps(c, kink) == BPS + slope1);
    }
}
