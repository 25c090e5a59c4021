// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {PricingCurve} from "../interfaces/ICapacityRegistry.sol";
import {LeaseClass} from "../interfaces/ILeaseMarket.sol";

/// @title PricingLib
/// @notice Price per GPU-hour from a kinked utilization curve. Monotone non-decreasing in utilization;
///         every division rounds up (in the protocol's favour).
library PricingLib {
    uint256 internal constant BPS = 10_000;

    /// @param gpuCount the asset's GPUs
    /// @param usedAfter GPUs committed once the new lease is counted (<= gpuCount)
    function price(PricingCurve memory c, uint32 gpuCount, uint32 usedAfter, LeaseClass class)
        internal
        pure
        returns (uint256 p)
    {
        uint256 util = Math.mulDiv(usedAfter, BPS, gpuCount, Math.Rounding.Ceil);
        p = Math.mulDiv(c.basePricePerGpuHour, multiplierBps(c, util), BPS, Math.Rounding.Ceil);
        if (class == LeaseClass.Interruptible) {
            p = Math.mulDiv(p, BPS - c.interruptibleDiscountBps, BPS, Math.Rounding.Ceil);
        }
    }

    /// @notice 1 + slope1 x u/kink below the kink; + slope2 x (u-kink)/(1-kink) above it (bps).
    function multiplierBps(PricingCurve memory c, uint256 utilBps) internal pure returns (uint256) {
        if (utilBps <= c.kinkBps) {
            return BPS + Math.mulDiv(c.slope1Bps, utilBps, c.kinkBps, Math.Rounding.Ceil);
        }
        // utilBps > kinkBps, so kinkBps < BPS and the divisor is positive
        return BPS + c.slope1Bps + Math.mulDiv(c.slope2Bps, utilBps - c.kinkBps, BPS - c.kinkBps, Math.Rounding.Ceil);
    }
}
