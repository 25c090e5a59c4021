// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ICreditMarket, Position} from "../../../contracts/interfaces/ICreditMarket.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {CreditFixture} from "../utils/CreditFixture.sol";

/// @notice Audit 17 finding (fixed): CreditMarket._collect skips (try/catch) a claim that fails while the
///         stablecoin is paused or the LeaseMarket is frozen, and collateral could still be deposited in that
///         state: the revenue earned by the collateral that was there was later spread over the collateral present
///         at collection time, so a depositor arriving during the pause captured revenue it never earned. Now a
///         collateral deposit or withdrawal waits until the revenue can be collected (CreditRevenueUncollectable).
contract Audit17CreditRevenueCaptureTest is CreditFixture {
    address internal attacker = address(0xBAD17);

    function _earned(address who) internal view returns (uint256) {
        Position memory p = credit.positionOf(assetId, who);
        return p.surplus;
    }

    function _scenario(bool pauseToken) internal returns (uint256 pending) {
        // the borrower is the only collateral while the revenue accrues
        depositCollateral(300e18);
        vm.prank(operator);
        shares.transfer(attacker, 400e18);
        vm.prank(attacker);
        shares.approve(address(credit), type(uint256).max);

        openLease(lessee, GPUS, 100, LeaseClass.Firm);
        runEpochs(5, 10_000);
        pending = shares.claimable(address(credit));
        assertGt(pending, 0, "revenue earned by the borrower's collateral, not yet collected");

        if (pauseToken) {
            vm.prank(admin);
            usdc.pause();
        } else {
            vm.prank(admin);
            usdc.setBlocklisted(address(market), true);
        }
        // the claim fails, so the deposit waits
        vm.prank(attacker);
        vm.expectRevert(abi.encodeWithSelector(ICreditMarket.CreditRevenueUncollectable.selector, assetId, pending));
        credit.depositCollateral(assetId, 400e18, attacker);
        if (pauseToken) {
            vm.prank(admin);
            usdc.unpause();
        } else {
            vm.prank(admin);
            usdc.setBlocklisted(address(market), false);
        }
        credit.settle(assetId, borrower);
        credit.settle(assetId, attacker);
    }

    /// A depositor arriving while the token is paused took 4/7 of revenue the borrower's collateral earned.
    function test_audit_pausedToken_lateDepositorCannotCaptureEarlierRevenue() public {
        uint256 pending = _scenario(true);
        assertEq(_earned(attacker), 0, "a depositor during the pause earned none of the earlier revenue");
        assertApproxEqAbs(_earned(borrower), pending, 1e3, "the borrower gets all the revenue its collateral earned");
    }

    /// Same with the LeaseMarket frozen by the issuer (then unfrozen).
    function test_audit_frozenLeaseMarket_lateDepositorCannotCaptureEarlierRevenue() public {
        uint256 pending = _scenario(false);
        assertEq(_earned(attacker), 0, "a depositor during the freeze earned none of the earlier revenue");
        assertApproxEqAbs(_earned(borrower), pending, 1e3, "the borrower gets all the revenue its collateral earned");
    }
}
