// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AuditBtcBase} from "./AuditBtcBase.sol";

/// @notice Regression of the second review's finding: recordPriceOutage() granted a full LIQUIDATION_GRACE
///         after any lapse past the heartbeat, however short, so a borrower recording each momentary lapse
///         kept an underwater position immune. Fixed: the grace is as long as the outage had lasted (≤ 1 h).
contract AuditBtcOutageGraceTest is AuditBtcBase {
    /// @dev One second of lapse buys an hour of immunity while the price is fresh and the position underwater.
    function test_audit_oneSecondLapse_buysAnHourOfImmunity() public {
        vm.prank(admin);
        btcUsd.setAnswer(45_000e8); // crash: 1 BTC x 45,000 x 80 % = 36,000 < 42,000 debt
        assertTrue(_canLiquidate(), "liquidatable now");
        vm.warp(block.timestamp + HEARTBEAT + 1); // the heartbeat update is one second late
        vm.prank(miner);
        btc.recordPriceOutage();
        vm.prank(admin);
        btcUsd.setAnswer(45_000e8); // the feed is back one second later, same price
        vm.warp(block.timestamp + 1);
        (, bool usable) = btc.price();
        assertTrue(usable, "fresh price");
        emit log_named_uint("grace seconds bought with a 1 s lapse", btc.priceOutageGraceUntil() - block.timestamp);
        assertTrue(_canLiquidate(), "a fresh price on an underwater position should be liquidatable");
    }
}
