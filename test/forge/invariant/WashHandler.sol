// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CapacityRegistry} from "../../../contracts/CapacityRegistry.sol";
import {CapacityShares} from "../../../contracts/CapacityShares.sol";
import {CreditMarket} from "../../../contracts/CreditMarket.sol";
import {LeaseMarket} from "../../../contracts/LeaseMarket.sol";
import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {NavOracle} from "../../../contracts/NavOracle.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";

/// @notice A holder of 60 % of an idle asset's shares who is also its lessee and a borrower: it leases
///         the GPUs to itself, collects the revenue, pledges, borrows, repays or walks away in any order,
///         while epochs settle at any uptime and the stablecoin's issuer pauses it at any step. Keeps what
///         it got legitimately from others (SLA credits out of the operator's bond).
contract WashHandler is HandlerBase {
    struct Deps {
        TestStablecoin usdc;
        CapacityRegistry registry;
        MetricsOracle oracle;
        LeaseMarket market;
        NavOracle nav;
        CreditMarket credit;
        uint256 assetId;
        address admin;
        address washer;
        uint256[3] keys;
    }

    TestStablecoin public usdc;
    CapacityRegistry public registry;
    MetricsOracle public oracle;
    LeaseMarket public market;
    NavOracle public nav;
    CreditMarket public credit;
    CapacityShares public shares;
    uint256 public assetId;
    address public washer;
    address internal admin;
    uint256[3] internal keys;

    uint256 public start; // the washer's stablecoin at the start
    uint256 public credits; // SLA credits it was paid out of the operator's bond
    uint256 public borrowed;
    uint256[] internal _leases;

    constructor(Deps memory d) {
        usdc = d.usdc;
        registry = d.registry;
        oracle = d.oracle;
        market = d.market;
        nav = d.nav;
        credit = d.credit;
        assetId = d.assetId;
        admin = d.admin;
        washer = d.washer;
        keys = d.keys;
        shares = CapacityShares(d.registry.terms(d.assetId).shares);
        vm.startPrank(washer);
        usdc.approve(address(market), type(uint256).max);
        usdc.approve(address(credit), type(uint256).max);
        shares.approve(address(credit), type(uint256).max);
        vm.stopPrank();
        start = usdc.balanceOf(washer);
    }

    modifier whenLive() {
        if (usdc.paused()) return;
        _;
    }

    // ---------------------------------------------------------------- the washer as lessee and holder

    function lease(uint32 gpus, uint64 epochs) external whenLive {
        uint32 free = market.availableGpus(assetId);
        if (free == 0) return;
        gpus = uint32(bound(gpus, 1, free));
        epochs = uint64(bound(epochs, 1, 40));
        vm.prank(washer);
        _leases.push(market.openLease(assetId, gpus, epochs, LeaseClass.Firm, type(uint256).max));
    }

    function claimRefund(uint256 index) external whenLive {
        if (_leases.length == 0) return;
        uint256 id = _leases[index % _leases.length];
        (uint256 refund, uint256 credit_) = market.refundable(id);
        if (refund + credit_ == 0) return;
        vm.prank(washer);
        (, uint256 paidCredit) = market.claimRefund(id, washer);
        credits += paidCredit;
    }

    function claimRevenue() external whenLive {
        if (shares.claimable(washer) == 0) return;
        vm.prank(washer);
        shares.claim(washer);
    }

    // ---------------------------------------------------------------- the washer as borrower

    function pledge(uint256 amount) external whenLive {
        amount = bound(amount, 0, shares.balanceOf(washer));
        if (amount == 0) return;
        vm.prank(washer);
        credit.depositCollateral(assetId, amount, washer);
    }

    function unpledge(uint256 amount) external {
        amount = bound(amount, 1, type(uint128).max);
        vm.prank(washer);
        try credit.withdrawCollateral(assetId, amount, washer) {} catch {}
    }

    /// @dev Borrows all it may: the attacker's best move once its wash has priced the shares. It first
    ///      asks for what the NAV (the pre-fix price) would lend, then for the market's stated capacity.
    function borrowAll() external {
        if (nav.roundCount() == 0) return;
        (uint256 navPrice,,) = nav.latestPrice();
        uint256 pledged = credit.positionOf(assetId, washer).collateral;
        uint256 asNav = pledged * navPrice / 1e18 / 2;
        uint256 debt = credit.debtOf(assetId, washer);
        uint256 liquidity = credit.idle();
        uint256 greedy = asNav > debt ? asNav - debt : 0;
        if (greedy > liquidity) greedy = liquidity;
        if (greedy != 0) {
            vm.prank(washer);
            try credit.borrow(assetId, greedy, washer) {
                borrowed += greedy;
                return;
            } catch {}
        }
        uint256 capacity = credit.borrowCapacity(assetId, washer);
        if (capacity == 0) return;
        vm.prank(washer);
        try credit.borrow(assetId, capacity, washer) {
            borrowed += capacity;
        } catch {}
    }

    function repay(uint256 amount) external {
        amount = amount % 2 == 0 ? type(uint256).max : bound(amount, 1, credit.debtOf(assetId, washer) + 1);
        vm.prank(washer);
        try credit.repay(assetId, amount, washer) {} catch {}
    }

    function claimSurplus() external {
        vm.prank(washer);
        try credit.claimSurplus(assetId, washer) {} catch {}
    }

    // ---------------------------------------------------------------- the issuer, time and epochs

    function pauseStablecoin(bool record) external {
        if (usdc.paused()) return;
        vm.prank(admin);
        usdc.pause();
        if (record) credit.recordStablecoinPause();
    }

    function unpauseStablecoin() external {
        if (!usdc.paused()) return;
        vm.prank(admin);
        usdc.unpause();
    }

    /// @dev Settles the next epoch with a report at `uptime` (honest attestors), or none.
    function settleEpoch(uint32 uptime, bool report) external whenLive {
        _settleNextEpoch(registry, market, oracle, keys, assetId, uint32(bound(uptime, 0, 10_000)), report);
        nav.update();
    }

    /// @dev Runs a whole window of full-uptime epochs: sustained washes need many.
    function settleWindow() external whenLive {
        uint32 window = nav.params().windowEpochs;
        for (uint256 i; i < window; ++i) {
            this.settleEpoch(10_000, true);
        }
    }
}
