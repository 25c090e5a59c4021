// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AssetStatus} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice Audit 17 finding (fixed): the pauser's hold (pausedByPauser) could only be set on an Active asset.
///         An operator that paused its own asset first (front-running the pauser) made the pauser's pause revert
///         (Paused -> Paused was no transition), so no hold was recorded and the operator resumed at will. The
///         pauser role may now pause a paused asset, taking the hold.
contract Audit17PauserHoldTest is Fixture {
    function test_audit_operatorCannotPreemptThePausersHold() public {
        // the operator sees the pauser's pause in the mempool and pauses first
        vm.prank(operator);
        registry.setStatus(assetId, AssetStatus.Paused);
        // the pauser's pause lands after it
        vm.prank(admin); // holds PAUSER_ROLE
        registry.setStatus(assetId, AssetStatus.Paused);
        assertTrue(registry.pausedByPauser(assetId), "the pauser's hold is in force on the paused asset");
        vm.prank(operator);
        (bool resumed,) = address(registry).call(abi.encodeCall(registry.setStatus, (assetId, AssetStatus.Active)));
        assertFalse(resumed, "the operator cannot lift the pauser's hold");
    }
}
