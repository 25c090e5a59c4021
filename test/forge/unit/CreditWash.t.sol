// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ICreditMarket} from "../../../contracts/interfaces/ICreditMarket.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {CreditFixture} from "../utils/CreditFixture.sol";

/// @notice The wash-lease attack: a holder (or the operator) of an idle asset leases it to itself so that
///         the revenue prices its shares, borrows against them, and walks away. The bound the market
///         enforces: spending S on leases raises what anyone can borrow by at most
///         LTV x (M / K) x (holders' part of S) x (pledged share of the supply) < S; and with the
///         fixture's fees (5 % protocol, 10 % operator) no holder of at most 60 % of the shares, nor the
///         operator with its 40 %, ends up with more stablecoin than it put in.
contract CreditWashTest is CreditFixture {
    uint256 private constant HOLDERS_BPS = 8_500; // 100 % - 5 % protocol fee - 10 % operator fee

    /// @dev forge prints these with -vv: the figures the note quotes.
    event log_named_uint(string key, uint256 val);

    struct Wash {
        uint256 spent; // S: what the lessee paid, less refunds
        uint256 earned; // what the attacker got back: holder revenue, plus operator fees if it is the operator
        uint256 capacity; // what it could borrow against all its shares afterwards
        uint256 navLoan; // what the NAV (the old price) would have lent against them
    }

    /// @dev An idle asset whose feed is seasoned at a price of zero (K full windows, nothing leased).
    function setUp() public override {
        super.setUp();
        runEpochs(SEASONED, 10_000);
        (uint256 price,,, bool ready) = nav.lendingPrice();
        assertTrue(ready && price == 0, "seasoned, idle, worth nothing to lend against");
    }

    /// @dev `attacker` leases `gpus` for `windows` windows to itself, is paid as holder (and operator),
    ///      pledges every share it holds and sees what it could borrow.
    function wash(address attacker, uint32 gpus, uint256 windows) internal returns (Wash memory w) {
        w.spent = selfLease(attacker, gpus, windows);
        uint256 before = usdc.balanceOf(attacker);
        vm.prank(attacker);
        shares.claim(attacker);
        if (attacker == operator && market.feesOf(operator) != 0) {
            vm.prank(operator);
            market.withdrawFees(operator);
        }
        w.earned = usdc.balanceOf(attacker) - before;
        uint256 held = shares.balanceOf(attacker);
        vm.startPrank(attacker);
        shares.approve(address(credit), held);
        credit.depositCollateral(assetId, held, attacker);
        vm.stopPrank();
        w.capacity = credit.borrowCapacity(assetId, attacker);
        (uint256 navPrice,,) = nav.latestPrice();
        w.navLoan = held * navPrice / 1e18 / 2;
        uint256 bound = w.spent * HOLDERS_BPS / 10_000 * held / 1_000e18 * 5_000 / 10_000 * LENDING_LIFE_WINDOWS
            / TRACK_RECORD_WINDOWS;
        assertLe(w.capacity, bound + 1, "capacity <= LTV x M/K x holders' part of S x pledged share");
        assertLt(w.capacity, w.spent, "capacity < S");
        if (w.capacity >= MIN_DEBT) {
            vm.prank(attacker);
            credit.borrow(assetId, w.capacity, attacker);
        }
        emit log_named_uint("spent S", w.spent);
        emit log_named_uint("got back as holder / operator", w.earned);
        emit log_named_uint("lending capacity", w.capacity);
        emit log_named_uint("NAV would lend", w.navLoan);
        // it walks away with the loan: everything it put in and got back
        assertLe(w.earned + w.capacity, w.spent, "the wash never pays: got back + borrowed <= spent");
    }

    /// @dev Leases `gpus` for `windows` windows to `attacker` and settles every leased epoch; returns what
    ///      the lessee paid net of refunds and credits.
    function selfLease(address attacker, uint32 gpus, uint256 windows) internal returns (uint256 spent) {
        vm.prank(admin);
        usdc.mint(attacker, 1_000_000 * USDC);
        approveAll(attacker);
        uint256 start = usdc.balanceOf(attacker);
        vm.prank(attacker);
        uint256 leaseId =
            market.openLease(assetId, gpus, uint64(windows * NAV_WINDOW), LeaseClass.Firm, type(uint256).max);
        uint64 end = market.leaseOf(leaseId).endEpoch;
        while (market.ledgerOf(assetId).nextEpochToFinalize < end) runEpochs(1, 10_000);
        (uint256 refund, uint256 credit_) = market.refundable(leaseId);
        if (refund + credit_ != 0) {
            vm.prank(attacker);
            market.claimRefund(leaseId, attacker);
        }
        spent = start - usdc.balanceOf(attacker);
    }

    /// @dev The review's attack, one window of self-leasing: the NAV would have lent a thousand times the
    ///      cost; the lending price (the mean of K windows, life capped at M) lends within the bound.
    function test_wash_OneWindowLendsWithinTheBound() public {
        Wash memory w = wash(investor, GPUS, 1);
        assertGt(w.navLoan, 1_000 * w.spent, "against the NAV the wash would pay a thousand times over");
        assertGt(w.capacity, 0, "one window of revenue is a quarter of the mean");
    }

    /// @dev Washing all K windows: the capacity bought is well below what was spent.
    function test_wash_KWindowsLendsLessThanSpent() public {
        Wash memory w = wash(investor, GPUS, TRACK_RECORD_WINDOWS);
        assertGt(w.capacity, 0, "a sustained wash does price the shares");
        assertGt(w.navLoan, 10 * w.spent, "the NAV would have lent ten times the cost");
        // 0.5 x 6/4 x 0.85 x 0.6 = 0.3825 of S
        assertLe(w.capacity * 10_000 / w.spent, 3_825, "capacity / S <= 38.25 %");
    }

    /// @dev The review's attack on a minimum: a real lessee paid for K - 1 windows and left; a 60 % holder
    ///      washes only the idle window. With the mean, what the wash adds to the capacity is still bounded
    ///      by LTV x (M / K) x the holders' part of S x its share, and the wash does not pay.
    function test_wash_AfterALesseeLeftBuysOnlyTheBound() public {
        uint256 organic = openLease(lessee, GPUS, uint64((TRACK_RECORD_WINDOWS - 1) * NAV_WINDOW), LeaseClass.Firm);
        while (market.ledgerOf(assetId).nextEpochToFinalize < market.leaseOf(organic).endEpoch) runEpochs(1, 10_000);
        depositCollateral(600e18);
        uint256 snapshot = vm.snapshotState();
        runEpochs(NAV_WINDOW, 10_000); // nobody leases the next window
        uint256 without = credit.borrowCapacity(assetId, borrower);
        vm.revertToState(snapshot);
        uint256 spent = selfLease(borrower, GPUS, 1);
        uint256 with_ = credit.borrowCapacity(assetId, borrower);
        uint256 bought = with_ - without;
        uint256 bound =
            spent * HOLDERS_BPS / 10_000 * 600 / 1_000 * 5_000 / 10_000 * LENDING_LIFE_WINDOWS / TRACK_RECORD_WINDOWS;
        emit log_named_uint("spent S", spent);
        emit log_named_uint("capacity without the wash", without);
        emit log_named_uint("capacity with it", with_);
        assertGt(without, 0, "the real lessee's windows still price the shares");
        assertLe(bought, bound + 1, "what the wash bought <= LTV x M/K x holders' part of S x 60 %");
        // it gets 60 % of the holders' part back; with what it bought, still less than it spent
        assertLt(spent * HOLDERS_BPS / 10_000 * 600 / 1_000 + bought, spent, "the wash does not pay");
    }

    function test_wash_TheOperatorGainsNothingEither() public {
        wash(operator, GPUS, TRACK_RECORD_WINDOWS);
    }

    /// forge-config: default.fuzz.runs = 24
    function testFuzz_wash_NeverPays(bool asOperator, uint32 gpus, uint256 windows) public {
        gpus = uint32(bound(gpus, 1, GPUS));
        windows = bound(windows, 1, 2 * TRACK_RECORD_WINDOWS);
        wash(asOperator ? operator : investor, gpus, windows);
    }

    function test_list_TheBoundIsInTheListing() public view {
        // LTV x M < K x 10,000, the condition that makes the bound below 1 x S
        assertLt(
            uint256(collateralParams().ltvBps) * LENDING_LIFE_WINDOWS, 10_000 * uint256(TRACK_RECORD_WINDOWS), "listed"
        );
        assertEq(address(credit.feedOf(assetId)), address(nav), "this feed");
        assertTrue(credit.supportsInterface(type(ICreditMarket).interfaceId), "the market");
    }
}
