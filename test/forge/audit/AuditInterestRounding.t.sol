// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AuditBtcBase} from "./AuditBtcBase.sol";

/// @notice Regression of the second review's finding: interest rounded up on every accrual, so anyone could
///         inflate what borrowers owe by triggering accruals (a 1-unit vault deposit, CreditMarket.settle())
///         every block. Fixed: interest rounds down, as Morpho Blue's does.
contract AuditInterestRoundingTest is AuditBtcBase {
    function test_audit_perBlockAccrual_inflatesInterest() public {
        // setUp: 42,000 USDC borrowed of 100,000; make it a small pool-wide debt: repay to 100 USDC
        vm.prank(admin);
        usdc.mint(miner, 1_000_000 * USDC);
        vm.startPrank(miner);
        usdc.approve(address(btc), type(uint256).max);
        btc.repay(41_900 * USDC, miner);
        vm.stopPrank();
        vm.prank(admin);
        btcUsd.setAnswer(60_000e8);

        uint256 start = btc.debtOf(miner);
        uint256 snap = vm.snapshotState();
        vm.warp(block.timestamp + 1 hours);
        uint256 once = btc.debtOf(miner) - start; // one accrual over the hour
        vm.revertToState(snap);

        vm.prank(admin);
        usdc.mint(address(this), 1_000 * USDC);
        usdc.approve(address(btc), type(uint256).max);
        for (uint256 i; i < 1_800; ++i) {
            vm.warp(block.timestamp + 2);
            btc.deposit(1, address(this)); // accrues
        }
        uint256 perBlock = btc.debtOf(miner) - start;
        emit log_named_uint("interest on 100 USDC over 1 h, accrued once (units)", once);
        emit log_named_uint("same hour, accrued every 2 s (an L2 block) (units)", perBlock);
        assertLe(perBlock, once + 2, "accrual frequency should not change the interest owed");
    }
}
