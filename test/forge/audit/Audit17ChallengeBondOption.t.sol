// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Report, ReportStatus, Verdict} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice Audit 17 finding (fixed): a challenge lodged while the token was paused had its bond "due", payable
///         by anyone at any time while the dispute was open. The challenger held a free option: it paid only once
///         the verdict was known to go its way (front-running resolveChallenge) and walked away at no cost when
///         it lost. Now such a challenge is unbonded for good: it cannot be bonded later and wins nothing.
contract Audit17ChallengeBondOptionTest is Fixture {
    function test_audit_unbondedChallengeHasNoOptionValue() public {
        openLease(lessee, 4, 2, LeaseClass.Firm);
        skipAndFinalize(0);
        vm.warp(epochStart(2));
        Report memory r = makeReport(1, 10_000);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.prank(admin);
        usdc.pause();
        vm.prank(challenger);
        oracle.challenge(assetId, 1);
        vm.prank(admin);
        usdc.unpause();
        assertEq(uint8(oracle.reportOf(assetId, 1).status), uint8(ReportStatus.Challenged), "lodged unbonded");
        // the verdict will go the challenger's way: paying the bond now would buy a reward, and there is no way to
        (bool paid,) = address(oracle).call(abi.encodeWithSignature("payChallengeBond(uint256,uint64)", assetId, 1));
        assertFalse(paid, "an unbonded challenge cannot be bonded later");
        uint256 wealth = usdc.balanceOf(challenger);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 1, Verdict({voided: false, uptimeBps: 0, curtailedBps: 0, faultyAttestors: 0}));
        assertEq(oracle.creditOf(challenger), 0, "wins nothing");
        assertEq(usdc.balanceOf(challenger), wealth, "and paid nothing");
        assertGt(oracle.creditOf(treasury), 0, "the operator's slash goes to the treasury");
    }
}
