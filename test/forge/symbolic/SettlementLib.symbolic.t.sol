// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Constants} from "../../../contracts/libraries/Constants.sol";
import {SettlementLib} from "../../../contracts/libraries/SettlementLib.sol";

/// @notice Symbolic (halmos, `make halmos`): the settlement library's properties for every value, not a sample.
///         Divisions here are by constants (BPS, SCALE), which the solvers handle where symbolic divisors are
///         beyond them (analysis/halmos.md). The fuzz versions are in test/forge/unit/SettlementLib.t.sol.
contract SettlementLibSymbolicTest {
    /// @dev The fee split conserves every unit and never gives the fees more than their exact share.
    function check_splitFeesConserves(uint128 amount, uint16 protocolBps, uint16 operatorBps) external pure {
        if (protocolBps > 2_000 || operatorBps > 5_000) return;
        (uint256 protocolFee, uint256 operatorFee, uint256 holders) =
            SettlementLib.splitFees(amount, protocolBps, operatorBps);
        assert(protocolFee + operatorFee + holders == amount);
        assert(protocolFee * Constants.BPS <= uint256(amount) * protocolBps);
        assert(operatorFee * Constants.BPS <= uint256(amount) * operatorBps);
    }

    /// @dev Two leases charged separately (each rounded up) pay at least the epoch's revenue (rounded down).
    function check_chargesCoverRevenue(uint64 rateA, uint64 rateB, uint32 fraction) external pure {
        if (fraction > Constants.SCALE) return;
        (uint256 revenue,) = SettlementLib.delivered(0, uint256(rateA) + rateB, fraction, 0, 0);
        assert(SettlementLib.valueUp(rateA, fraction) + SettlementLib.valueUp(rateB, fraction) >= revenue);
    }
}
