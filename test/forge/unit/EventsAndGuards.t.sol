// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {CapacityRegistry} from "../../../contracts/CapacityRegistry.sol";
import {CapacitySharesFactory} from "../../../contracts/CapacitySharesFactory.sol";
import {GridLedger} from "../../../contracts/GridLedger.sol";
import {LeaseMarket} from "../../../contracts/LeaseMarket.sol";
import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {AssetStatus, ICapacityRegistry, ProtocolParams} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {ICapacityShares} from "../../../contracts/interfaces/ICapacityShares.sol";
import {ILeaseMarket, LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {IMetricsOracle, Report, Verdict} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice The events and guards not covered by the per-contract suites.
contract EventsAndGuardsTest is Fixture {
    function test_wiring_EmitsAndGuards() public {
        CapacitySharesFactory factory = new CapacitySharesFactory();
        ProtocolParams memory params = defaultParams();
        vm.expectRevert(ICapacityRegistry.RegistryInvalidAddress.selector);
        new CapacityRegistry(address(0), IERC20(address(usdc)), factory, params, usdcBlocklist());
        CapacityRegistry fresh = new CapacityRegistry(
            admin, IERC20(address(usdc)), new CapacitySharesFactory(), defaultParams(), usdcBlocklist()
        );
        vm.prank(operator);
        vm.expectRevert(ICapacityRegistry.RegistryNotWired.selector);
        fresh.registerAsset(defaultAsset());
        MetricsOracle freshOracle = new MetricsOracle(fresh, new GridLedger(fresh));
        LeaseMarket freshMarket = new LeaseMarket(fresh, freshOracle);
        vm.expectEmit(false, false, false, true, address(fresh));
        emit ICapacityRegistry.ProtocolContractsWired(address(freshMarket), address(freshOracle));
        vm.prank(admin);
        fresh.wire(address(freshMarket), address(freshOracle));
        assertEq(freshOracle.params().challengeWindow, WINDOW, "wiring hands the oracle its report timings");
        assertEq(freshOracle.params().minAttestorStake, MIN_STAKE, "and the minimum stake");
    }

    function test_setProtocolParams_Emits() public {
        ProtocolParams memory p = defaultParams();
        p.challengeWindow = 99;
        vm.expectEmit(false, false, false, true, address(registry));
        emit ICapacityRegistry.ProtocolParamsSet(p);
        vm.prank(admin);
        registry.setProtocolParams(p);
        assertEq(oracle.params().challengeWindow, 99, "the oracle follows governance");
    }

    function test_register_EmitsAttestorsSet() public {
        vm.expectEmit(true, false, false, true, address(registry));
        emit ICapacityRegistry.AttestorsSet(2, attestorAddrs, 1);
        registerDefault();
    }

    function test_settlement_EmitsPayoutEvents() public {
        openLease(lessee, 4, 2, LeaseClass.Firm);
        skipAndFinalize(0);
        uint256 rate = market.leaseOf(1).ratePerEpoch;
        uint256 holders = rate - rate * 500 / 10_000 - rate / 10;
        reportAndWaitWindow(1, 10_000);
        vm.expectEmit(false, false, false, true, address(shares));
        emit ICapacityShares.RevenueDistributed(holders, holders * 1e36 / 1_000e18);
        market.finalizeEpoch(assetId, 1);
        // epoch 2 unreported: the firm lessee's SLA credit is slashed from the bond
        uint256 credit = rate * 9_900 / 10_000;
        vm.warp(epochStart(3) + DEADLINE + 1);
        vm.expectEmit(true, true, false, true, address(registry));
        emit ICapacityRegistry.BondSlashed(assetId, address(market), credit, credit, 10_000e6 - credit);
        market.finalizeEpoch(assetId, 2);

        vm.expectEmit(true, true, false, true, address(market));
        emit ILeaseMarket.FeesWithdrawn(operator, operator, rate / 10);
        vm.prank(operator);
        market.withdrawFees(operator);
    }

    function test_oracleCredit_EmitsWithdrawn() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.prank(challenger);
        oracle.challenge(assetId, 0);
        vm.prank(admin);
        oracle.resolveChallenge(
            assetId, 0, Verdict({voided: false, uptimeBps: 10_000, curtailedBps: 0, faultyAttestors: 0})
        );
        vm.expectEmit(true, true, false, true, address(oracle));
        emit IMetricsOracle.CreditWithdrawn(treasury, treasury, 100e6);
        vm.prank(treasury);
        oracle.withdraw(treasury);
    }

    function test_sale_EmitsProceedsWithdrawn() public {
        vm.prank(operator);
        shares.openSale(10e18, 2e6, uint64(block.timestamp + 1 days));
        vm.prank(lessee);
        usdc.approve(address(shares), type(uint256).max);
        vm.prank(lessee);
        shares.buy(5e18, 2e6);
        vm.expectEmit(true, true, false, true, address(shares));
        emit ICapacityShares.ProceedsWithdrawn(operator, lessee2, 10e6);
        vm.prank(operator);
        shares.withdrawProceeds(lessee2);
    }

    function test_bondWithdrawn_Emits() public {
        vm.startPrank(operator);
        registry.setStatus(assetId, AssetStatus.Retired);
        vm.expectEmit(true, true, false, true, address(registry));
        emit ICapacityRegistry.BondWithdrawn(assetId, operator, 10_000e6);
        registry.withdrawBond(assetId, operator);
        vm.stopPrank();
    }

    function test_payHolderRevenue_RevertWhen_MoreThanOwed() public {
        vm.prank(address(shares));
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketInsufficientHolderRevenue.selector, assetId, 1, 0));
        market.payHolderRevenue(assetId, lessee, 1);
    }
}

/// @notice The stablecoin's hard cases and the shares' permit.
contract StablecoinCasesTest is Fixture {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    function test_pausedStablecoin_DelaysSettlementLosesNothing() public {
        openLease(lessee, 4, 1, LeaseClass.Firm);
        skipAndFinalize(0);
        reportAndWaitWindow(1, 10_000);
        vm.prank(admin);
        usdc.pause();
        // settlement moves no tokens: it goes through while the stablecoin is paused
        market.finalizeEpoch(assetId, 1);
        uint256 owed = shares.claimable(investor);
        assertTrue(owed > 0, "revenue accrued");
        vm.prank(investor);
        vm.expectRevert(); // EnforcedPause from the token
        shares.claim(investor);
        vm.prank(admin);
        usdc.unpause();
        vm.prank(investor);
        assertEq(shares.claim(investor), owed, "claimed in full after the pause");
    }

    function test_stablecoin_IsUsdcShaped() public {
        assertEq(usdc.decimals(), 6, "6 decimals");
        vm.prank(admin);
        usdc.setBlocklisted(lessee, true);
        assertTrue(usdc.isBlacklisted(lessee), "blocklisted");
        vm.prank(investor);
        vm.expectRevert(abi.encodeWithSelector(TestStablecoin.StablecoinBlocklisted.selector, lessee));
        usdc.transfer(lessee, 1);
    }

    function test_shares_PermitThenTransferFrom() public {
        uint256 key = 0xB0B;
        address owner = vm.addr(key);
        vm.prank(investor);
        shares.transfer(owner, 10e18);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, lessee, 10e18, 0, deadline));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", shares.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        shares.permit(owner, lessee, 10e18, deadline, v, r, s);
        assertEq(shares.allowance(owner, lessee), 10e18, "allowance from a signature");
        vm.prank(lessee);
        shares.transferFrom(owner, lessee, 10e18);
        assertEq(shares.balanceOf(lessee), 10e18, "moved");
    }
}
