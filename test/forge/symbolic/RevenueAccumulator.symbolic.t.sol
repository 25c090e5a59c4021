// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SharesMarketStandIn} from "../utils/SharesMarketStandIn.sol";
import {Vm} from "../utils/Test.sol";

/// @notice Symbolic (halmos, `make halmos`): the revenue accumulator of CapacityShares never pays out
///         more than was deposited, whatever the deposited amounts and whatever the order of deposits,
///         transfers and claims. Transfers move fixed amounts: a product of two symbolic 256-bit values
///         (balance x accumulator delta) is beyond the SMT solvers here; the invariant tests move random
///         amounts. Not a gate yet: no verdict in time (analysis/halmos.md); the invariant
///         `invariant_holdersNeverOverpaid` checks the same property in `make test`. This contract plays the
///         LeaseMarket ({SharesMarketStandIn}).
contract RevenueAccumulatorSymbolicTest is SharesMarketStandIn {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    address private constant ALICE = address(0xA11CE);
    address private constant BOB = address(0xB0B);
    address private constant OPERATOR = address(0x0FE4);

    function setUp() public {
        _deployShares(1_000_000e18, ALICE, 400_000e18, OPERATOR);
    }

    function _step(uint8 op, uint96 amount) private {
        op %= 5;
        if (op == 0) {
            _distribute(amount);
        } else if (op == 1) {
            vm.prank(ALICE);
            shares.transfer(BOB, 150_000e18 + 7);
        } else if (op == 2) {
            vm.prank(OPERATOR);
            shares.transfer(ALICE, 33_333e18 + 1);
        } else {
            _claimIfAny(op == 3 ? ALICE : BOB);
        }
    }

    function _claimAll() private {
        _claimIfAny(ALICE);
        _claimIfAny(BOB);
        _claimIfAny(OPERATOR);
    }

    function _claimIfAny(address holder) private {
        if (shares.claimable(holder) != 0) {
            vm.prank(holder);
            shares.claim(holder);
        }
    }

    /// @dev Four operations in any order, then everyone claims: paid out <= deposited, and the
    ///      contract's own books agree with what was actually paid.
    function check_claimsNeverExceedDeposits(uint8[4] calldata ops, uint96[4] calldata amounts) external {
        // unrolled: halmos bounds loops (2 iterations by default), which would cut every path short
        _step(ops[0], amounts[0]);
        _step(ops[1], amounts[1]);
        _step(ops[2], amounts[2]);
        _step(ops[3], amounts[3]);
        _claimAll();
        assert(paid <= deposited);
        assert(shares.totalClaimed() == paid);
        assert(shares.totalDistributed() == deposited);
    }
}
