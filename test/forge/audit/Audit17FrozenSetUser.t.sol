// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice Audit 17 finding (fixed): a lessee the issuer froze could not transfer its lease, but could still hand
///         the lease's use (ERC-4907 user: the GPUs its frozen escrow keeps paying for) to another address for
///         the whole term. setUser now refuses a frozen owner.
contract Audit17FrozenSetUserTest is Fixture {
    function test_audit_frozenLesseeCannotDelegateTheLease() public {
        uint256 id = openLease(lessee, 4, 10, LeaseClass.Firm);
        vm.prank(admin);
        usdc.setBlocklisted(lessee, true);
        address fresh = address(0xF4E5);
        vm.prank(lessee);
        (bool ok,) = address(market).call(abi.encodeCall(market.setUser, (id, fresh, type(uint64).max)));
        assertFalse(ok, "a frozen lessee cannot hand the lease's use to another address");
        assertEq(market.userOf(id), address(0), "no user was set by the frozen lessee");
    }
}
