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
        earn(100, 10); // epochs 0..9 final; the lease pays from epoch 1
        uint256 revenue = shares.totalDistributed();
        assertGt(revenue, 0, "holders earned");
        (uint256 price, uint64 epoch, bool stale) = nav.latestPrice();
        assertEq(epoch, 9, "valued epoch");
        assertFalse(stale, "fresh");
        assertApproxEqAbs(price, expectedPrice(revenue, 10, 10_000, 9), 1, "A x U x R over epochs 0..9");
        // 8 GPUs at 6.40 USDC an hour (the curve at full use), 85 % to holders, 9 of 10 epochs leased:
        // 39.17 USDC an epoch for 1,000 shares, 343 USDC a year per share, times ~3 years of life
        assertGt(price, 1_000 * USDC, "plausible magnitude");
        assertLt(price, 1_050 * USDC, "plausible magnitude");
    }

    function test_price_TrailingWindowOnly() public {
        earn(100, 6); // epochs 0..5: epoch 0 earned nothing
        uint256 before = shares.totalDistributed();
        runEpochs(24, 10_000); // epochs 6..29
        uint256 revenue = shares.totalDistributed() - before;
        NavRound memory r = nav.roundAt(uint80(nav.roundCount()));
        assertEq(r.epoch, 29, "valued epoch");
        // the window is (5, 29]: the empty epoch 0 no longer dilutes the price
        assertApproxEqAbs(r.pricePerShare, expectedPrice(revenue, 24, 10_000, 29), 1, "window of 24 epochs");
    }

    function test_price_HaircutByUptime() public {
        openLease(lessee, GPUS, 100, LeaseClass.Firm);
        runEpochs(10, 5_000);
        (uint256 price,,) = nav.latestPrice();
        // revenue already halves with uptime, and the price is haircut by the same uptime again
        assertApproxEqAbs(price, expectedPrice(shares.totalDistributed(), 10, 5_000, 9), 1, "A x 0.5 x R");
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
        uint256 expected = revenue * 4 / 5 * (registry.terms(assetId).genesis + LIFE - epochStart(5)) / (1_000 * 5 * EPOCH);
        assertApproxEqAbs(price, expected, 2, "4 of 5 epochs proven");
        assertLt(price, full, "falls");
    }

    function test_price_ZeroPastDepreciationEnd() public {
        NavOracleFactory other = new NavOracleFactory(registry);
        vm.prank(operator);
        NavOracle short = NavOracle(
            other.create(
                assetId,
                NavParams({windowEpochs: 24, staleAfterEpochs: 3, depreciationEnd: uint64(block.timestamp + 2 * EPOCH)})
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
        (uint256 price,,) = nav.latestPrice();
        assertEq(uint256(roundId), 3, "a round per finalized epoch");
        assertEq(answer, int256(price), "answer");
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

    function test_morpho_PriceScaledTo1e36() public {
        earn(100, 3);
        (uint256 price,,) = nav.latestPrice();
        // one share unit (1e-18 share) in stablecoin units, x 1e36
        assertEq(nav.price(), price * 1e18, "price x 1e36 / 1e18");
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
            NavParams({windowEpochs: 0, staleAfterEpochs: 3, depreciationEnd: life}),
            NavParams({windowEpochs: 8_785, staleAfterEpochs: 3, depreciationEnd: life}), // > 366 days of epochs
            NavParams({windowEpochs: 24, staleAfterEpochs: 1, depreciationEnd: life}),
            NavParams({windowEpochs: 24, staleAfterEpochs: 1_001, depreciationEnd: life}),
            NavParams({windowEpochs: 24, staleAfterEpochs: 3, depreciationEnd: uint64(block.timestamp)}),
            NavParams({windowEpochs: 24, staleAfterEpochs: 3, depreciationEnd: uint64(block.timestamp + 9 * 365 days)})
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    INavOracle.NavInvalidParams.selector, bad[i].windowEpochs, bad[i].staleAfterEpochs, bad[i].depreciationEnd
                )
            );
            vm.prank(operator);
            other.create(assetId, bad[i]);
        }
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
