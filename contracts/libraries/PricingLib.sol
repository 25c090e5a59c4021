// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {PricingCurve} from "../interfaces/ICapacityRegistry.sol";
import {LeaseClass} from "../interfaces/ILeaseMarket.sol";
import {Constants} from "./Constants.sol";

/// @title PricingLib
/// @notice Price per GPU-hour from a kinked utilization curve. Monotone non-decreasing in utilization;
///         every division rounds up (in the protocol's favour).
/// @dev Plain products with a rounded-up division: the operands' widths (uint32 GPUs, bps, uint32 slopes,
///      a uint128 base price) keep every product below 2^180, so 512-bit mulDiv is not needed; the symbolic
///      tests (test/forge/symbolic) prove monotonicity over all of these widths.
library PricingLib {
    uint256 internal constant BPS = Constants.BPS;

    /// @param gpuCount the asset's GPUs
    /// @param usedAfter GPUs committed once the new lease is counted (<= gpuCount)
    function price(PricingCurve memory c, uint32 gpuCount, uint32 usedAfter, LeaseClass class)
        internal
        pure
        returns (uint256 p)
    {
        // usedAfter <= gpuCount, so util <= BPS; the multiplier is < 2^34, the price < 2^162
        uint256 util = Math.ceilDiv(uint256(usedAfter) * BPS, gpuCount);
        p = Math.ceilDiv(uint256(c.basePricePerGpuHour) * multiplierBps(c, util), BPS);
        if (class == LeaseClass.Interruptible) {
            p = Math.ceilDiv(p * (BPS - c.interruptibleDiscountBps), BPS);
        }
    }

    /// @notice 1 + slope1 x u/kink below the kink; + slope2 x (u-kink)/(1-kink) above it (bps).
    function multiplierBps(PricingCurve memory c, uint256 utilBps) internal pure returns (uint256) {
        if (utilBps <= c.kinkBps) {
            return BPS + Math.ceilDiv(uint256(c.slope1Bps) * utilBps, c.kinkBps);
        }
        // utilBps > kinkBps, so kinkBps < BPS and the divisor is positive
        return BPS + c.slope1Bps + Math.ceilDiv(uint256(c.slope2Bps) * (utilBps - c.kinkBps), BPS - c.kinkBps);
    }
}
