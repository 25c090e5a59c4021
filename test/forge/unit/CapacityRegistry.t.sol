// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {
    AssetParams,
    AssetStatus,
    AssetTerms,
    ICapacityRegistry,
    ProtocolParams
} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {Fixture} from "../utils/Fixture.sol";

contract CapacityRegistryTest is Fixture {
    function test_registerAsset_RecordsTermsSharesAndBond() public view {
        AssetTerms memory t = registry.terms(assetId);
        assertEq(t.operator, operator, "operator");
        assertEq(t.gpuCount, GPUS, "gpus");
        assertEq(t.protocolFeeBps, 500, "fee snapshot");
        assertTrue(t.status == AssetStatus.Active, "active");
        assertEq(registry.bondOf(assetId), 10_000 * USDC, "bond");
        assertEq(usdc.balanceOf(address(registry)), 10_000 * USDC, "bond held");
        assertEq(shares.balanceOf(investor), 600e18, "investor allocation");
        assertEq(shares.balanceOf(operator), 400e18, "rest to operator");
        assertEq(registry.attestors(assetId).length, 4, "attestors");
        assertEq(t.faultTolerance, 1, "f");
        assertEq(oracle.configOf(assetId).faultTolerance, 1, "the oracle holds the same fault model");
        assertEq(oracle.configOf(assetId).maxGpuEnergyWh, uint256(GPUS) * 700, "8 GPUs x 700 W x 1 h");
        assertEq(oracle.params().minAttestorStake, MIN_STAKE, "the oracle holds the minimum stake");
        assertEq(oracle.params().challengeWindow, WINDOW, "and the report timings");
        assertEq(registry.assetCount(), 1, "count");
        assertEq(registry.epochEnd(assetId, 0), t.genesis + EPOCH, "epoch end");
        assertTrue(registry.supportsInterface(type(ICapacityRegistry).interfaceId), "ERC-165");
    }

    function test_registerAsset_EmitsEvents() public {
        AssetParams memory p = defaultAsset();
        vm.expectEmit(true, true, false, false, address(registry));
        emit ICapacityRegistry.AssetRegistered(2, operator, address(0), 0, 0, 0, 0, 0, 0);
        vm.prank(operator);
        registry.registerAsset(p);
    }

    function test_registerAsset_RevertWhen_InvalidParams() public {
        AssetParams memory p = defaultAsset();
        p.gpuCount = 0;
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidGpuCount.selector, 0));
        p = defaultAsset();
        p.epochLength = 59;
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidEpochLength.selector, 59));
        p = defaultAsset();
        p.faultTolerance = 2; // needs 7 attestors
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidFaultModel.selector, 2, 4, 7));
        p = defaultAsset();
        address[] memory three = new address[](3); // 3 < 3f + 1 = 4
        for (uint256 i; i < 3; ++i) {
            three[i] = p.attestors[i];
        }
        p.attestors = three;
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidFaultModel.selector, 1, 3, 4));
        p = defaultAsset();
        p.attestors[2] = p.attestors[0];
        _expectRegisterRevert(
            p, abi.encodeWithSelector(ICapacityRegistry.RegistryDuplicateAttestor.selector, p.attestors[0])
        );
        p = defaultAsset();
        p.operatorFeeBps = 5_001;
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryFeeTooHigh.selector, 5_001, 5_000));
        p = defaultAsset();
        p.bond = 1;
        _expectRegisterRevert(
            p, abi.encodeWithSelector(ICapacityRegistry.RegistryBondTooSmall.selector, 1, 1_000 * USDC)
        );
        p = defaultAsset();
        p.totalShares = 1e18;
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidShares.selector, 1e18, 600e18));
        p = defaultAsset();
        p.totalShares = 1e18 - 1; // below one whole share, even with nothing allocated
        p.investors = new address[](0);
        p.investorShares = new uint256[](0);
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidShares.selector, 1e18 - 1, 0));
        p = defaultAsset();
        p.curve.kinkBps = 0;
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidCurve.selector, BASE_PRICE, 0));
        p = defaultAsset();
        p.maxWattsPerGpu = 0;
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidMaxWatts.selector, 0));
        p = defaultAsset();
        p.attestors[1] = address(0);
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidAttestor.selector, address(0)));
        p = defaultAsset();
        p.investorShares = new uint256[](0);
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryLengthMismatch.selector, 1, 0));
        p = defaultAsset();
        p.slaTargetBps = 10_001;
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidBps.selector, 10_001));
        p = defaultAsset();
        p.attestors = new address[](33);
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryTooManyAttestors.selector, 33, 32));
        p = defaultAsset();
        p.investors = new address[](65);
        p.investorShares = new uint256[](65);
        _expectRegisterRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryTooManyInvestors.selector, 65, 64));
        p = defaultAsset();
        p.curtailmentCapHours = 721;
        _expectRegisterRevert(
            p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidCurtailmentCap.selector, 721, 720)
        );
    }

    function _expectRegisterRevert(AssetParams memory p, bytes memory err) internal {
        vm.prank(operator);
        vm.expectRevert(err);
        registry.registerAsset(p);
    }

    function test_setStatus_Transitions() public {
        vm.expectEmit(true, false, false, true, address(registry));
        emit ICapacityRegistry.AssetStatusChanged(assetId, AssetStatus.Active, AssetStatus.Paused);
        vm.prank(admin); // pauser role
        registry.setStatus(assetId, AssetStatus.Paused);
        assertTrue(registry.pausedByPauser(assetId), "held by the pauser");
        // the operator cannot lift a pause the pauser role set
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(ICapacityRegistry.RegistryPausedByPauser.selector, assetId));
        registry.setStatus(assetId, AssetStatus.Active);
        vm.prank(admin);
        registry.setStatus(assetId, AssetStatus.Active);
        assertFalse(registry.pausedByPauser(assetId), "released");
        // its own pause it lifts itself
        vm.startPrank(operator);
        registry.setStatus(assetId, AssetStatus.Paused);
        assertFalse(registry.pausedByPauser(assetId), "the operator's pause");
        registry.setStatus(assetId, AssetStatus.Active);
        vm.stopPrank();
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICapacityRegistry.RegistryInvalidStatusChange.selector, assetId, AssetStatus.Active, AssetStatus.Retired
            )
        );
        registry.setStatus(assetId, AssetStatus.Retired); // only the operator retires
        vm.prank(lessee);
        vm.expectRevert(abi.encodeWithSelector(ICapacityRegistry.RegistryNotOperator.selector, assetId, lessee));
        registry.setStatus(assetId, AssetStatus.Paused);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(ICapacityRegistry.RegistryUnknownAsset.selector, 9));
        registry.setStatus(9, AssetStatus.Paused);
    }

    function test_bond_DepositLockedUntilRetiredAndSettled() public {
        vm.expectEmit(true, true, false, true, address(registry));
        emit ICapacityRegistry.BondDeposited(assetId, lessee, 5 * USDC, 10_005 * USDC);
        vm.prank(lessee);
        registry.depositBond(assetId, 5 * USDC);
        openLease(lessee, 2, 1, LeaseClass.Firm);
        vm.startPrank(operator);
        registry.setStatus(assetId, AssetStatus.Retired);
        vm.expectRevert(
            abi.encodeWithSelector(ICapacityRegistry.RegistryBondLocked.selector, assetId, AssetStatus.Retired, 2)
        );
        registry.withdrawBond(assetId, operator);
        vm.stopPrank();
        skipAndFinalize(0);
        skipAndFinalize(1); // no report: firm lessee credited from the bond
        uint256 bond = registry.bondOf(assetId);
        vm.prank(lessee);
        vm.expectRevert(abi.encodeWithSelector(ICapacityRegistry.RegistryNotOperator.selector, assetId, lessee));
        registry.withdrawBond(assetId, lessee);
        uint256 before = usdc.balanceOf(operator);
        vm.prank(operator);
        registry.withdrawBond(assetId, operator);
        assertEq(usdc.balanceOf(operator) - before, bond, "bond returned");
    }

    function test_governance_Guards() public {
        vm.expectRevert(abi.encodeWithSelector(ICapacityRegistry.RegistryUnauthorizedSlasher.selector, address(this)));
        registry.slashBond(assetId, 1, address(this));
        vm.prank(admin);
        vm.expectRevert(ICapacityRegistry.RegistryAlreadyWired.selector);
        registry.wire(address(1), address(2));
        ProtocolParams memory p = defaultParams();
        p.protocolFeeBps = 2_001;
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ICapacityRegistry.RegistryFeeTooHigh.selector, 2_001, 2_000));
        registry.setProtocolParams(p);
        p.protocolFeeBps = 100;
        vm.expectRevert(); // not governor
        registry.setProtocolParams(p);
        vm.prank(admin);
        registry.setProtocolParams(p);
        assertEq(registry.protocolParams().protocolFeeBps, 100, "fee set");
        assertEq(registry.terms(assetId).protocolFeeBps, 500, "existing asset keeps its fee");
    }

    function _expectParamsRevert(ProtocolParams memory p, bytes memory err) internal {
        vm.prank(admin);
        vm.expectRevert(err);
        registry.setProtocolParams(p);
    }

    /// @notice A challenger reward of 100 % would let a party at fault that challenges itself through another
    ///         address recover its whole penalty; below it, self-challenging always loses.
    function test_setProtocolParams_RevertWhen_AttestationBoundsBroken() public {
        ProtocolParams memory p = defaultParams();
        p.challengerRewardBps = 10_000;
        _expectParamsRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidBps.selector, 10_000));
        p = defaultParams();
        p.attestorSlashBps = 10_001;
        _expectParamsRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidBps.selector, 10_001));
        p = defaultParams();
        p.minAttestorStake = uint256(type(uint128).max) + 1;
        _expectParamsRevert(
            p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidStake.selector, uint256(type(uint128).max) + 1)
        );
        p = defaultParams();
        p.gridEventHorizon = 0;
        _expectParamsRevert(p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidHorizon.selector, 0, 7 days));
        p.gridEventHorizon = 7 days + 1;
        _expectParamsRevert(
            p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidHorizon.selector, 7 days + 1, 7 days)
        );
        p = defaultParams();
        p.disputeDeadline = 0;
        _expectParamsRevert(
            p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidDisputeDeadline.selector, 0, 30 days)
        );
        p.disputeDeadline = 30 days + 1;
        _expectParamsRevert(
            p, abi.encodeWithSelector(ICapacityRegistry.RegistryInvalidDisputeDeadline.selector, 30 days + 1, 30 days)
        );
        // the bounds themselves are accepted
        p = defaultParams();
        p.disputeDeadline = 30 days;
        p.challengerRewardBps = 9_999;
        p.attestorSlashBps = 10_000;
        p.minAttestorStake = type(uint128).max;
        p.gridEventHorizon = 7 days;
        vm.prank(admin);
        registry.setProtocolParams(p);
        assertEq(registry.protocolParams().gridEventHorizon, 7 days, "set");
    }
}
