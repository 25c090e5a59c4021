// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {EpochIndex} from "../interfaces/ILeaseMarket.sol";
import {Constants} from "./Constants.sol";

/// @title SettlementLib
/// @notice The arithmetic of settling a leased asset's epoch: the delivered fractions, the value delivered
///         with its carried remainder, the fee split, service credits capped by what the bond holds, the
///         cumulative index leases read, and what a lease is charged and credited from it.
/// @dev Fractions are scaled by `Constants.SCALE` (1e8 = the whole epoch delivered). A lease of rate r over
///      epochs [s, t) is charged ceil(r * (I[t-1] - I[s-1]) / 1e8) while an epoch moves floor(sum of rate x
///      fraction / 1e8) from escrow to revenue, carrying the remainder: the sum of the ceilings is never below
///      the floor of the sum, so revenue can never exceed what leases are charged.
library SettlementLib {
    /// @notice The delivered fractions of a firm and an interruptible lease: nothing without a proven report;
    ///         an interruptible lease is not charged for curtailed time.
    function fractions(bool proven, uint256 uptimeBps, uint256 curtailedBps)
        internal
        pure
        returns (uint256 firm, uint256 interruptible)
    {
        if (!proven) return (0, 0);
        firm = uptimeBps * Constants.BPS;
        interruptible = uptimeBps * (Constants.BPS - curtailedBps);
    }

    /// @notice The value delivered this epoch (rounded down) and the sub-unit remainder carried to the next.
    function delivered(
        uint256 remainder,
        uint256 firmRate,
        uint256 firmFraction,
        uint256 interruptibleRate,
        uint256 interruptibleFraction
    ) internal pure returns (uint256 value, uint32 carried) {
        uint256 scaled = remainder + firmRate * firmFraction + interruptibleRate * interruptibleFraction;
        value = scaled / Constants.SCALE;
        carried = uint32(scaled % Constants.SCALE); // below SCALE = 1e8 < 2^32
    }

    /// @notice `amount` split into the protocol's and the operator's fees (each rounded down) and the holders'
    ///         rest. Protocol plus operator fee bps are at most 7,000 (the registry's bounds): no underflow.
    function splitFees(uint256 amount, uint256 protocolFeeBps, uint256 operatorFeeBps)
        internal
        pure
        returns (uint256 protocolFee, uint256 operatorFee, uint256 holders)
    {
        protocolFee = amount * protocolFeeBps / Constants.BPS;
        operatorFee = amount * operatorFeeBps / Constants.BPS;
        holders = amount - protocolFee - operatorFee;
    }

    /// @notice A credit of `fraction` of `rate` (rounded up, against the bond), cut to what `available` pays:
    ///         then the fraction is what `available` buys (rounded down) and the credit its value again.
    function cappedCredit(uint256 rate, uint256 fraction, uint256 available)
        internal
        pure
        returns (uint256 cappedFraction, uint256 needed)
    {
        cappedFraction = fraction;
        needed = Math.mulDiv(rate, fraction, Constants.SCALE, Math.Rounding.Ceil);
        if (needed > available) {
            cappedFraction = available * Constants.SCALE / rate;
            needed = Math.mulDiv(rate, cappedFraction, Constants.SCALE, Math.Rounding.Ceil);
        }
    }

    /// @notice Records the epoch's index: the previous epoch's plus this epoch's fractions, finalized now.
    function recordIndex(
        mapping(uint64 => EpochIndex) storage indices,
        uint64 epoch,
        uint256 firmFraction,
        uint256 interruptibleFraction,
        uint256 creditFraction
    ) internal {
        // slither-disable-next-line uninitialized-local (zero is the index before epoch 0)
        EpochIndex memory prev;
        if (epoch != 0) prev = indices[epoch - 1];
        indices[epoch] = EpochIndex(
            SafeCast.toUint64(prev.firmDelivered + firmFraction),
            SafeCast.toUint64(prev.interruptibleDelivered + interruptibleFraction),
            SafeCast.toUint64(prev.serviceCredit + creditFraction),
            uint64(block.timestamp)
        );
    }

    /// @notice `fraction` of `rate`, rounded up: what a lease is charged (for the asset), a credit the bond pays.
    function valueUp(uint256 rate, uint256 fraction) internal pure returns (uint256) {
        return Math.mulDiv(rate, fraction, Constants.SCALE, Math.Rounding.Ceil);
    }

    /// @notice `fraction` of `rate`, rounded down: what a lease is credited (against the lessee).
    function valueDown(uint256 rate, uint256 fraction) internal pure returns (uint256) {
        return Math.mulDiv(rate, fraction, Constants.SCALE);
    }
}
