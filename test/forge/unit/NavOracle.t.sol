// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {NavOracle} from "../../../contracts/NavOracle.sol";
import {NavOracleFactory} from "../../../contracts/NavOracleFactory.sol";
import {AggregatorV3Interface} from "../../../contracts/interfaces/AggregatorV3Interface.sol";
import {INavOracle, INavOracleFactory, NavParams, NavRound} from "../../../contracts/interfaces/INavOracle.sol";
import {IOracle} from "../../../contracts/interfaces/IOracle.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {CreditFixture} from "../utils/CreditFixture.sol";

contract NavOracleTest is CreditFixture {
    uint256 internal constant YEAR = 365 days;

    /// @dev The fixture's price written out by hand: holders' revenue per whole share over `span` epochs,
    ///      annualised, times uptime, times the remaining life in years (1,000 shares in total).
    function expectedPrice(uint256 revenue, uint256 span, uint256 uptimeBps, uint256 lastEpoch)
        internal
        view
        returns (uint256)
    {
        uint256 remaining = registry.terms(assetId).genesis + LIFE - epochStart(uint64(lastEpoch + 1));
        return revenue * uptimeBps * remaining / (1_000 * span * EPOCH * 10_000);
    }

    function test_price_FromGenesisBeforeAFullWindow() public {
        earn(100, 5); // epochs 0..4 final (less than the 6-epoch window); the lease pays from epoch 1
        uint256 revenue = shares.totalDistributed();
        assertGt(revenue, 0, "holders earned");
        (uint256 price, uint64 epoch, bool stale) = nav.latestPrice();
        assertEq(epoch, 4, "valued epoch");
        assertFalse(stale, "fresh");
        assertApproxEqAbs(price, expectedPrice(revenue, 5, 10_000, 4), 1, "A x U x R over epochs 0..4");
        // 8 GPUs at 6.40 USDC an hour (the curve at full use), 85 % to holders, 4 of 5 epochs leased:
        // 34.8 USDC an epoch for 1,000 shares, 305 USDC a year per share, times ~3 years of life
        assertGt(price, 890 * USDC, "plausible magnitude");
        assertLt(price, 940 * USDC, "plausible magnitude");
    }

    function test_price_TrailingWindowOnly() public {
        earn(100, 6); // epochs 0..5: epoch 0 earned nothing
        uint256 before = shares.totalDistributed();
        runEpochs(6, 10_000); // epochs 6..11
        uint256 revenue = shares.totalDistributed() - before;
        NavRound memory r = nav.roundAt(uint80(nav.roundCount()));
        assertEq(r.epoch, 11, "valued epoch");
        // the window is (5, 11]: the empty epoch 0 no longer dilutes the price
        assertApproxEqAbs(r.pricePerShare, expectedPrice(revenue, 6, 10_000, 11), 1, "window of 6 epochs");
    }

    function test_price_HaircutByUptime() public {
        openLease(lessee, GPUS, 100, LeaseClass.Firm);
        runEpochs(5, 5_000); // epochs 0..4: one window from genesis
        (uint256 price,,) = nav.latestPrice();
        // revenue already halves with uptime, and the price is haircut by the same uptime again
        assertApproxEqAbs(price, expectedPrice(shares.totalDistributed(), 5, 5_000, 4), 1, "A x 0.5 x R");
    }

    /// @dev Energy income reaches holders but is the operator's own one-off deposit: it must not price shares.
    function test_price_IgnoresEnergyIncome() public {
        openLease(lessee, GPUS, 100, LeaseClass.Firm);
        runEpochs(4, 10_000);
        uint256 snapshot = vm.snapshotState();
        runEpochs(2, 10_000);
        (uint256 withoutIncome,,) = nav.latestPrice();
        vm.revertToState(snapshot);
        uint256 before = shares.totalDistributed();
        vm.prank(operator);
        market.depositEnergyIncome(assetId, 31_700 * USDC, bytes32("ERCOT-DR-2026-08"));
        assertGt(shares.totalDistributed() - before, 26_000 * USDC, "holders were paid the income");
        runEpochs(2, 10_000);
        (uint256 withIncome,,) = nav.latestPrice();
        assertApproxEqAbs(withIncome, withoutIncome, 1, "the price is the lease revenue's alone");
    }

    function test_price_UnprovenEpochsCountAsZeroUptime() public {
        earn(100, 4);
        (uint256 full,,) = nav.latestPrice();
        uint256 revenue = shares.totalDistributed();
        skipAndFinalize(4); // no report: nothing delivered, zero uptime
        nav.update();
        (uint256 price,,) = nav.latestPrice();
        // epoch 0 had no lease but was reported at full uptime; epoch 4 is unproven
        uint256 expected =
            revenue * 4 / 5 * (registry.terms(assetId).genesis + LIFE - epochStart(5)) / (1_000 * 5 * EPOCH);
        assertApproxEqAbs(price, expected, 2, "4 of 5 epochs proven");
        assertLt(price, full, "falls");
    }

    function test_price_ZeroPastDepreciationEnd() public {
        NavOracleFactory other = new NavOracleFactory(registry);
        vm.prank(operator);
        NavOracle short = NavOracle(
            other.create(
                assetId,
                NavParams({
                    windowEpochs: 24,
                    staleAfterEpochs: 3,
                    depreciationEnd: uint64(block.timestamp + 2 * EPOCH),
                    lendingLifeWindows: 6,
                    trackRecordWindows: 4
                })
            )
        );
        earn(100, 2);
        short.update();
        assertEq(short.roundAt(1).epoch, 1, "one round, valuing epoch 1");
        (uint256 price,,) = short.latestPrice();
        assertEq(price, 0, "life ends with epoch 1");
    }

    function test_update_OnlyWhenANewerEpochFinalized() public {
        assertFalse(nav.update(), "nothing finalized yet");
        earn(100, 2);
        assertFalse(nav.update(), "already recorded");
        (uint256 price,,) = nav.latestPrice();
        uint256 rounds = nav.roundCount();

        // Everything but finalization: claims, transfers, a sale, leases opened and closed, a report
        // accepted but still inside its window.
        vm.prank(investor);
        shares.claim(investor);
        vm.prank(investor);
        shares.transfer(lessee2, 10e18);
        vm.prank(lessee);
        market.closeLease(1);
        reportAndWaitWindow(2, 10_000); // accepted, final once settled, but not settled
        assertFalse(nav.update(), "no new epoch");
        (uint256 after_,,) = nav.latestPrice();
        assertEq(after_, price, "price unchanged");
        assertEq(nav.roundCount(), rounds, "no round");
        market.finalizeEpoch(assetId, 2);
        assertTrue(nav.update(), "the settled epoch is recorded");
        assertEq(nav.roundCount(), rounds + 1, "one more round");
    }

    function test_update_EmitsNavUpdated() public {
        openLease(lessee, GPUS, 100, LeaseClass.Firm);
        reportAndFinalize(0, 10_000);
        uint256 remaining = registry.terms(assetId).genesis + LIFE - epochStart(1);
        vm.expectEmit(true, true, false, true, address(nav));
        emit INavOracle.NavUpdated(assetId, 1, 0, 0, 0, 10_000, remaining, 0);
        assertTrue(nav.update(), "recorded");
    }

    function test_stale_AfterConfiguredEpochsWithoutFinalization() public {
        assertTrue(nav.isStale(), "no rounds: stale");
        earn(100, 3); // epochs 0..2; now inside epoch 3
        assertFalse(nav.isStale(), "fresh");
        vm.warp(epochStart(2 + NAV_STALE));
        assertFalse(nav.isStale(), "3 epochs behind: still fresh");
        vm.warp(epochStart(2 + NAV_STALE + 1));
        assertTrue(nav.isStale(), "4 epochs behind: stale");
        (,, bool stale) = nav.latestPrice();
        assertTrue(stale, "latestPrice says so");
    }

    function test_chainlink_Rounds() public {
        vm.expectRevert(abi.encodeWithSelector(INavOracle.NavNoRounds.selector, assetId));
        nav.latestRoundData();
        vm.expectRevert(abi.encodeWithSelector(INavOracle.NavNoRounds.selector, assetId));
        nav.price();
        earn(100, 3);
        (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredIn) = nav.latestRoundData();
        assertEq(uint256(roundId), 3, "a round per finalized epoch");
        assertEq(answer, 0, "the answer is the lending price, 0 while the feed is young");
        assertEq(startedAt, epochStart(3), "started when epoch 2 ended");
        assertEq(updatedAt, market.epochIndexOf(assetId, 2).finalizedAt, "updated when epoch 2 finalized");
        assertEq(uint256(answeredIn), 3, "answered in round");
        (roundId,,, updatedAt,) = nav.getRoundData(1);
        assertEq(updatedAt, market.epochIndexOf(assetId, 0).finalizedAt, "round 1 is epoch 0");
        vm.expectRevert(abi.encodeWithSelector(INavOracle.NavUnknownRound.selector, 0, 3));
        nav.getRoundData(0);
        vm.expectRevert(abi.encodeWithSelector(INavOracle.NavUnknownRound.selector, 4, 3));
        nav.getRoundData(4);
        assertEq(nav.decimals(), 6, "the stablecoin's decimals");
        assertEq(nav.version(), 1, "version");
        assertEq(nav.description(), "whABL1 / tUSDC NAV", "description");
    }

    function test_morpho_LendingPriceScaledTo1e36() public {
        earn(1_000, SEASONED - 1);
        assertEq(nav.price(), 0, "young: no price for lending");
        runEpochs(1, 10_000);
        (uint256 price,,, bool seasoned) = nav.lendingPrice();
        assertTrue(seasoned, "four full windows");
        // one share unit (1e-18 share) in stablecoin units, x 1e36
        assertEq(nav.price(), price * 1e18, "lending price x 1e36 / 1e18");
        (, int256 answer,,,) = nav.latestRoundData();
        assertEq(answer, int256(price), "the Chainlink answer is the lending price too");
    }

    // ---------------------------------------------------------------- lending price

    /// @dev At full, steady revenue each window's capped price is the NAV scaled to M windows of life.
    function test_lendingPrice_CapsLifeAtMWindows() public {
        openLease(lessee, GPUS, 1_000, LeaseClass.Firm);
        runEpochs(SEASONED + NAV_WINDOW, 10_000); // the unleased epoch 0 is out of the last K windows
        NavRound memory r = nav.roundAt(uint80(nav.roundCount()));
        uint256 remaining = registry.terms(assetId).genesis + LIFE - epochStart(r.epoch + 1);
        uint256 cap = uint256(LENDING_LIFE_WINDOWS) * NAV_WINDOW * EPOCH;
        assertApproxEqAbs(r.cappedPrice, uint256(r.pricePerShare) * cap / remaining, 1, "R capped at M windows");
        assertEq(r.lendingPrice, r.cappedPrice, "steady revenue: every window prices the same");
        assertEq(r.fullWindows, TRACK_RECORD_WINDOWS, "seasoned");
        assertEq(r.baseRoundId, nav.roundCount() - NAV_WINDOW, "the window starts after the round 6 epochs back");
    }

    /// @dev The lending price is the mean of the last K windows: a bad window pulls it down by its share, and
    ///      keeps doing so until K good windows have followed it.
    function test_lendingPrice_MeanOfKWindows() public {
        openLease(lessee, GPUS, 1_000, LeaseClass.Firm);
        runEpochs(SEASONED + NAV_WINDOW, 10_000); // the unleased epoch 0 is out of the last K windows
        (uint256 steady,,, bool seasoned) = nav.lendingPrice();
        assertTrue(seasoned, "seasoned after K full windows");
        runEpochs(NAV_WINDOW, 5_000);
        NavRound memory bad = nav.roundAt(uint80(nav.roundCount()));
        (uint256 halved,,,) = nav.lendingPrice();
        assertLt(bad.cappedPrice, steady / 2, "the half-uptime window alone (revenue and uptime both halve)");
        assertApproxEqAbs(halved, (3 * steady + bad.cappedPrice) / 4, 1, "the mean of three good and one bad");
        runEpochs(NAV_WINDOW, 10_000);
        (uint256 still,,,) = nav.lendingPrice();
        assertApproxEqAbs(still, halved, 1, "the bad window still counts while among the last K");
        runEpochs(NAV_WINDOW * (TRACK_RECORD_WINDOWS - 1), 10_000);
        (uint256 recovered,,,) = nav.lendingPrice();
        assertApproxEqAbs(recovered, steady, 1, "K good windows later it is back");
    }

    /// @dev A feed is young until K full windows have finalized; the K-th makes it seasoned (the bound is
    ///      exact: one epoch earlier it is not).
    function test_lendingPrice_YoungUntilKFullWindows() public {
        earn(1_000, SEASONED - 1);
        (,,, bool seasoned) = nav.lendingPrice();
        assertFalse(seasoned, "23 epochs: three full windows and a short one");
        assertEq(nav.roundAt(uint80(nav.roundCount())).fullWindows, TRACK_RECORD_WINDOWS - 1, "three");
        runEpochs(1, 10_000);
        (,,, seasoned) = nav.lendingPrice();
        assertTrue(seasoned, "24 epochs: four");
        assertEq(nav.roundAt(1).fullWindows, 0, "the genesis window of one epoch is not full");
    }

    /// @dev Rounds recorded sparsely still chain disjoint windows of at least `windowEpochs`.
    function test_lendingPrice_SparseRoundsChainDisjointWindows() public {
        openLease(lessee, GPUS, 1_000, LeaseClass.Firm);
        for (uint256 i; i < 40; ++i) {
            reportAndFinalize(market.ledgerOf(assetId).nextEpochToFinalize, 10_000);
            if (i % 7 == 6) nav.update(); // a round every 7th epoch only
        }
        uint256 count = nav.roundCount();
        NavRound memory r = nav.roundAt(uint80(count));
        uint64 epoch = r.epoch;
        for (uint256 k; k < r.fullWindows; ++k) {
            NavRound memory base = nav.roundAt(uint80(r.baseRoundId));
            assertGe(epoch - base.epoch, NAV_WINDOW, "each window spans at least 6 epochs");
            epoch = base.epoch;
            r = base;
            if (r.baseRoundId == 0) break;
        }
    }

    function test_recoveredAt_SetWhenARoundEndsStaleness() public {
        earn(1_000, 3);
        assertEq(nav.recoveredAt(), 0, "never stale");
        vm.warp(epochStart(2 + NAV_STALE + 1)); // stale
        market.finalizeEpochs(assetId, 10);
        nav.update();
        assertEq(nav.recoveredAt(), block.timestamp, "recovered now");
    }

    function test_factory_RevertWhen_LendingParamsOutOfBounds() public {
        NavOracleFactory other = new NavOracleFactory(registry);
        uint16[2][4] memory bad =
            [[uint16(0), uint16(4)], [uint16(121), uint16(4)], [uint16(6), uint16(0)], [uint16(6), uint16(13)]];
        for (uint256 i; i < bad.length; ++i) {
            NavParams memory p = navParams();
            p.lendingLifeWindows = bad[i][0];
            p.trackRecordWindows = bad[i][1];
            vm.expectRevert(abi.encodeWithSelector(INavOracle.NavInvalidLendingParams.selector, bad[i][0], bad[i][1]));
            vm.prank(operator);
            other.create(assetId, p);
        }
        NavParams memory edge = navParams();
        edge.lendingLifeWindows = 120;
        edge.trackRecordWindows = 12;
        vm.prank(operator);
        other.create(assetId, edge); // the bounds themselves are allowed
    }

    function test_interfaces_MatchChainlinkAndMorpho() public view {
        assertEq(uint256(uint32(AggregatorV3Interface.latestRoundData.selector)), 0xfeaf968c, "latestRoundData");
        assertEq(uint256(uint32(AggregatorV3Interface.getRoundData.selector)), 0x9a6fc8f5, "getRoundData");
        assertEq(uint256(uint32(AggregatorV3Interface.decimals.selector)), 0x313ce567, "decimals");
        assertEq(uint256(uint32(AggregatorV3Interface.description.selector)), 0x7284e416, "description");
        assertEq(uint256(uint32(AggregatorV3Interface.version.selector)), 0x54fd4d50, "version");
        assertEq(uint256(uint32(IOracle.price.selector)), 0xa035b1fe, "Morpho price");
        assertTrue(nav.supportsInterface(type(IERC165).interfaceId), "ERC-165");
        assertTrue(nav.supportsInterface(type(AggregatorV3Interface).interfaceId), "AggregatorV3");
        assertTrue(nav.supportsInterface(type(IOracle).interfaceId), "IOracle");
        assertTrue(nav.supportsInterface(type(INavOracle).interfaceId), "INavOracle");
        assertFalse(nav.supportsInterface(0xffffffff), "not 0xffffffff");
    }

    function test_views_IdentifyTheAsset() public view {
        assertEq(nav.assetId(), assetId, "asset id");
        assertEq(nav.shares(), address(shares), "the asset's shares");
        NavParams memory p = nav.params();
        assertEq(p.windowEpochs, NAV_WINDOW, "window");
        assertEq(p.staleAfterEpochs, NAV_STALE, "staleness");
        assertEq(p.depreciationEnd, registry.terms(assetId).genesis + LIFE, "depreciation end");
        assertEq(nav.roundCount(), 0, "no rounds yet");
    }

    function test_factory_Guards() public {
        NavParams memory p = navParams();
        vm.expectRevert(abi.encodeWithSelector(INavOracleFactory.NavOnlyOperator.selector, assetId, lessee));
        vm.prank(lessee);
        navFactory.create(assetId, p);
        vm.expectRevert(abi.encodeWithSelector(INavOracleFactory.NavFeedExists.selector, assetId, address(nav)));
        vm.prank(operator);
        navFactory.create(assetId, p);
        vm.expectRevert(abi.encodeWithSelector(INavOracleFactory.NavUnknownAsset.selector, 99));
        navFactory.create(99, p);
        assertEq(navFactory.oracleOf(assetId), address(nav), "recorded");
    }

    function test_factory_RevertWhen_ParamsOutOfBounds() public {
        NavOracleFactory other = new NavOracleFactory(registry);
        uint64 life = uint64(block.timestamp + 365 days);
        NavParams[6] memory bad = [
            _params(0, 3, life),
            _params(8_785, 3, life), // > 366 days of epochs
            _params(24, 1, life),
            _params(24, 1_001, life),
            _params(24, 3, uint64(block.timestamp)),
            _params(24, 3, uint64(block.timestamp + 9 * 365 days))
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    INavOracle.NavInvalidParams.selector,
                    bad[i].windowEpochs,
                    bad[i].staleAfterEpochs,
                    bad[i].depreciationEnd
                )
            );
            vm.prank(operator);
            other.create(assetId, bad[i]);
        }
    }

    function _params(uint32 window, uint32 stale, uint64 end) private pure returns (NavParams memory) {
        return NavParams({
            windowEpochs: window,
            staleAfterEpochs: stale,
            depreciationEnd: end,
            lendingLifeWindows: 6,
            trackRecordWindows: 4
        });
    }

    /// @dev More uptime never lowers the price, whatever the two uptimes.
    function testFuzz_price_MonotoneInUptime(uint32 low, uint32 high) public {
        low = uint32(bound(low, 0, 10_000));
        high = uint32(bound(high, low, 10_000));
        openLease(lessee, GPUS, 100, LeaseClass.Firm);
        uint256 snapshot = vm.snapshotState();
        runEpochs(5, low);
        (uint256 atLow,,) = nav.latestPrice();
        vm.revertToState(snapshot);
        runEpochs(5, high);
        (uint256 atHigh,,) = nav.latestPrice();
        assertLe(atLow, atHigh, "monotone in uptime");
    }
}
