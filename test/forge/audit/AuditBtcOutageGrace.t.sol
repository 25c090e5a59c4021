// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AuditBtcBase} from "./AuditBtcBase.sol";

/// @notice Audit: recordPriceOutage() grants a full LIQUIDATION_GRACE after ANY lapse past the heartbeat,
///         however short. A borrower who records each momentary lapse (a heartbeat update landing a block
///         late) keeps an underwater position immune from liquidation except for a few seconds an hour.
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

    /// @dev Over a day of heartbeat updates each landing 12 s (one block) late, with the borrower recording
    ///      each lapse: after the first hour only an ~11 s window per hour is open (probing every 10 s from
    ///      hour 1 on, only 2 probes in 360 per hour succeed).
}
