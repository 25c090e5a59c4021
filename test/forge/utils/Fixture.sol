// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {CapacityRegistry} from "../../../contracts/CapacityRegistry.sol";
import {CapacityShares} from "../../../contracts/CapacityShares.sol";
import {CapacitySharesFactory} from "../../../contracts/CapacitySharesFactory.sol";
import {GridLedger} from "../../../contracts/GridLedger.sol";
import {LeaseMarket} from "../../../contracts/LeaseMarket.sol";
import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {
    AssetParams,
    AssetTerms,
    PricingCurve,
    ProtocolParams
} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {GridEvent, GridEventSource} from "../../../contracts/interfaces/IGridLedger.sol";
import {Observation, Report} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Blocklist} from "../../../contracts/interfaces/IStablecoinGuard.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @notice A deployed protocol with one registered asset: 8 GPUs, hourly epochs, 4 staked attestors
///         tolerating one faulty (f = 1: a report needs 3 observations and 2 co-signers).
abstract contract Fixture is HandlerBase {
    uint256 internal constant USDC = 1e6;
    uint32 internal constant EPOCH = 3600;
    uint32 internal constant GPUS = 8;
    uint128 internal constant BASE_PRICE = 2e6; // 2 USDC per GPU-hour
    uint32 internal constant WINDOW = 1800;
    uint32 internal constant DEADLINE = 3600;
    uint256 internal constant MIN_STAKE = 500e6;
    uint256 internal constant STAKE = 1_000e6;
    uint32 internal constant DISPUTE_DEADLINE = 3 days;

    address internal admin = address(0xA11CE);
    address internal treasury = address(0x7EA5);
    uint256 internal operatorKey = 0x0BE;
    address internal operator = vm.addr(operatorKey);
    address internal investor = address(0x1417);
    address internal lessee = address(0x1E55);
    address internal lessee2 = address(0x1E56);
    address internal challenger = address(0xC4A1);

    uint256[4] internal attestorKeys = [uint256(0xA77E51), uint256(0xA77E52), uint256(0xA77E53), uint256(0xA77E54)];
    address[] internal attestorAddrs;

    TestStablecoin internal usdc;
    CapacityRegistry internal registry;
    GridLedger internal grid;
    MetricsOracle internal oracle;
    LeaseMarket internal market;
    CapacityShares internal shares;
    uint256 internal assetId;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        usdc = deployStablecoin();
        registry = new CapacityRegistry(
            admin, IERC20(address(usdc)), new CapacitySharesFactory(), defaultParams(), usdcBlocklist()
        );
        grid = new GridLedger(registry);
        oracle = new MetricsOracle(registry, grid);
        market = new LeaseMarket(registry, oracle);
        vm.prank(admin);
        registry.wire(address(market), address(oracle));
        for (uint256 i; i < attestorKeys.length; ++i) {
            attestorAddrs.push(vm.addr(attestorKeys[i]));
        }
        address[5] memory funded = [operator, investor, lessee, lessee2, challenger];
        vm.startPrank(admin);
        for (uint256 i; i < funded.length; ++i) {
            usdc.mint(funded[i], 1_000_000 * USDC);
        }
        vm.stopPrank();
        for (uint256 i; i < funded.length; ++i) {
            approveAll(funded[i]);
        }
        assetId = registerDefault();
        shares = CapacityShares(registry.terms(assetId).shares);
        stakeAll(assetId);
    }

    /// @dev The stablecoin the protocol runs on: the fast test coin here; Circle's FiatToken in its own suite.
    function deployStablecoin() internal virtual returns (TestStablecoin) {
        return new TestStablecoin(admin);
    }

    /// @dev The test coin's blocklist, read as USDC's `isBlacklisted(address)`.
    function usdcBlocklist() internal view returns (Blocklist memory) {
        return Blocklist({target: address(usdc), selector: bytes4(keccak256("isBlacklisted(address)"))});
    }

    /// @dev The operator funds every attestor's stake of `id` (STAKE each).
    function stakeAll(uint256 id) internal {
        for (uint256 i; i < attestorAddrs.length; ++i) {
            vm.prank(operator);
            oracle.depositStake(id, attestorAddrs[i], STAKE);
        }
    }

    function defaultParams() internal view returns (ProtocolParams memory) {
        return ProtocolParams({
            treasury: treasury,
            protocolFeeBps: 500,
            minBond: 1_000 * USDC,
            challengeBond: 100 * USDC,
            challengeWindow: WINDOW,
            reportDeadline: DEADLINE,
            fraudSlashBps: 5_000,
            challengerRewardBps: 2_000,
            attestorSlashBps: 5_000,
            minAttestorStake: MIN_STAKE,
            gridEventHorizon: 1 days,
            disputeDeadline: DISPUTE_DEADLINE
        });
    }

    function defaultAsset() internal view returns (AssetParams memory p) {
        address[] memory investors = new address[](1);
        investors[0] = investor;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = 600e18;
        p = AssetParams({
            siteId: bytes32("TX-ABILENE-1"),
            gpuClass: bytes32("H100-SXM"),
            gpuCount: GPUS,
            maxWattsPerGpu: 700,
            epochLength: EPOCH,
            operatorFeeBps: 1_000,
            slaTargetBps: 9_900,
            faultTolerance: 1,
            attestors: attestorAddrs,
            curve: PricingCurve({
                basePricePerGpuHour: BASE_PRICE,
                kinkBps: 8_000,
                slope1Bps: 2_000,
                slope2Bps: 20_000,
                interruptibleDiscountBps: 3_000
            }),
            bond: 10_000 * USDC,
            sharesName: "Wellhead Abilene H100",
            sharesSymbol: "whABL1",
            totalShares: 1_000e18,
            investors: investors,
            investorShares: amounts,
            restrictedTransfers: false,
            curtailmentCapHours: 2
        });
    }

    function registerDefault() internal returns (uint256) {
        vm.prank(operator);
        return registry.registerAsset(defaultAsset());
    }

    function approveAll(address who) internal {
        vm.startPrank(who);
        usdc.approve(address(registry), type(uint256).max);
        usdc.approve(address(market), type(uint256).max);
        usdc.approve(address(oracle), type(uint256).max);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- time

    function epochStart(uint64 epoch) internal view returns (uint256) {
        AssetTerms memory t = registry.terms(assetId);
        return uint256(t.genesis) + uint256(epoch) * t.epochLength;
    }

    function currentEpoch() internal view returns (uint64) {
        return registry.currentEpoch(assetId);
    }

    // ---------------------------------------------------------------- reports

    /// @dev Attestor `observer`'s observation of an epoch at `uptimeBps` (the other values fixed).
    function observation(uint8 observer, uint32 uptimeBps) internal pure returns (Observation memory o) {
        o = Observation({
            observer: observer,
            uptimeBps: uptimeBps,
            curtailedBps: 0,
            gpuEnergyWh: 4_000,
            facilityEnergyWh: 5_000,
            miningEnergyWh: 0,
            miningRevenue: 0,
            renewableBps: 6_000,
            carbonGramsPerKwh: 200,
            evidenceHash: keccak256(abi.encode("evidence", observer, uptimeBps))
        });
    }

    /// @dev Observers 1..count, each observing `uptimeBps`.
    function uniform(uint256 count, uint32 uptimeBps) internal pure returns (Observation[] memory obs) {
        obs = new Observation[](count);
        for (uint256 i; i < count; ++i) {
            obs[i] = observation(uint8(i + 1), uptimeBps);
        }
    }

    /// @dev A report of `obs`, each observation signed by its own observer's key.
    function buildReport(uint64 epoch, bytes32 gridEventId, Observation[] memory obs)
        internal
        view
        returns (Report memory)
    {
        uint256[] memory keys = new uint256[](obs.length);
        for (uint256 i; i < obs.length; ++i) {
            keys[i] = attestorKeys[obs[i].observer - 1];
        }
        return _buildReport(oracle, assetId, epoch, gridEventId, obs, keys);
    }

    /// @dev Co-signatures of attestors 1..count.
    function cosignFirst(Report memory r, uint256 count) internal view returns (bytes memory) {
        uint256[] memory keys = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            keys[i] = attestorKeys[i];
        }
        return _cosign(oracle, r, keys);
    }

    /// @dev Observers 1..3 agree on `uptimeBps`; attestors 1 and 2 co-sign.
    function makeReport(uint64 epoch, uint32 uptimeBps) internal view returns (Report memory) {
        return buildReport(epoch, bytes32(0), uniform(3, uptimeBps));
    }

    /// @dev After the epoch ends, three attestors' report is accepted and its challenge window passes.
    function reportAndWaitWindow(uint64 epoch, uint32 uptimeBps) internal {
        uint256 end = epochStart(epoch + 1);
        if (block.timestamp < end) vm.warp(end);
        Report memory r = makeReport(epoch, uptimeBps);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.warp(block.timestamp + WINDOW);
    }

    function reportAndFinalize(uint64 epoch, uint32 uptimeBps) internal {
        reportAndWaitWindow(epoch, uptimeBps);
        market.finalizeEpoch(assetId, epoch);
    }

    function skipAndFinalize(uint64 epoch) internal {
        uint256 late = epochStart(epoch + 1) + DEADLINE + 1;
        if (block.timestamp < late) vm.warp(late);
        market.finalizeEpoch(assetId, epoch);
    }

    // ---------------------------------------------------------------- grid events

    function gridEvent(bytes32 id, GridEventSource source, uint256 startsAt, uint256 endsAt)
        internal
        view
        returns (GridEvent memory)
    {
        return _gridEvent(assetId, id, source, startsAt, endsAt);
    }

    function signEvent(uint256 key, GridEvent memory ev) internal view returns (bytes memory) {
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(key, grid.hashEvent(ev));
        return abi.encodePacked(rr, s, v);
    }

    /// @dev An OpenADR event over [startsAt, endsAt) of the default asset, attested by its first attestor.
    /// @return the declaration id reports name
    function declareEvent(bytes32 id, uint256 startsAt, uint256 endsAt) internal returns (bytes32) {
        GridEvent memory ev = gridEvent(id, GridEventSource.OpenAdr, startsAt, endsAt);
        return grid.declareEvent(ev, signEvent(attestorKeys[0], ev));
    }

    /// @dev A report of three observers at `uptimeBps` and `curtailedBps` under declaration `declared`.
    function curtailedReport(uint64 epoch, uint32 uptimeBps, uint32 curtailedBps, bytes32 declared)
        internal
        view
        returns (Report memory)
    {
        Observation[] memory obs = uniform(3, uptimeBps);
        for (uint256 i; i < 3; ++i) {
            obs[i].curtailedBps = curtailedBps;
        }
        return buildReport(epoch, declared, obs);
    }

    /// @dev Warps past the epoch's end, reports it curtailed under declaration `declared`, warps past the window.
    function reportCurtailed(uint64 epoch, uint32 uptimeBps, uint32 curtailedBps, bytes32 declared) internal {
        uint256 end = epochStart(epoch + 1);
        if (block.timestamp < end) vm.warp(end);
        Report memory r = curtailedReport(epoch, uptimeBps, curtailedBps, declared);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.warp(block.timestamp + WINDOW);
    }

    function openLease(address who, uint32 gpus, uint64 epochs, LeaseClass class) internal returns (uint256 id) {
        vm.prank(who);
        id = market.openLease(assetId, gpus, epochs, class, type(uint256).max);
    }
}
