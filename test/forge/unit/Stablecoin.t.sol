// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {CapacityRegistry} from "../../../contracts/CapacityRegistry.sol";
import {CapacitySharesFactory} from "../../../contracts/CapacitySharesFactory.sol";
import {GridLedger} from "../../../contracts/GridLedger.sol";
import {LeaseMarket} from "../../../contracts/LeaseMarket.sol";
import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {AssetStatus} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {ILeaseMarket, LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {IMetricsOracle, Report, ReportStatus, Verdict} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Blocklist, IStablecoinGuard} from "../../../contracts/interfaces/IStablecoinGuard.sol";
import {TestFeeToken} from "../../../contracts/test/TestFeeToken.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice The stablecoin as it really behaves: an issuer that freezes accounts (users and protocol contracts)
///         and pauses the token, and tokens the accounting cannot carry.
contract StablecoinTest is Fixture {
    address internal fresh = address(0xF4E5);

    function _freeze(address account) internal {
        vm.prank(admin);
        usdc.setBlocklisted(account, true);
    }

    function _unfreeze(address account) internal {
        vm.prank(admin);
        usdc.setBlocklisted(account, false);
    }

    function _frozen(address account) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IStablecoinGuard.StablecoinAccountFrozen.selector, account);
    }

    /// @dev One settled epoch of a firm lease: revenue to the holders, a fee to the operator.
    function _settledLease() internal returns (uint256 id) {
        id = openLease(lessee, 4, 2, LeaseClass.Firm);
        skipAndFinalize(0);
        reportAndFinalize(1, 5_000); // half delivered: a refund and an SLA credit for the lessee
    }

    // ---------------------------------------------------------------- frozen means frozen

    function test_frozenHolder_CannotClaimToAFreshAddress_NorMoveItsShares() public {
        _settledLease();
        uint256 owed = shares.claimable(investor);
        assertGt(owed, 0, "revenue accrued");
        _freeze(investor);
        vm.startPrank(investor);
        vm.expectRevert(_frozen(investor));
        shares.claim(fresh);
        vm.expectRevert(_frozen(investor));
        shares.transfer(fresh, 1e18);
        shares.approve(fresh, 1e18); // approving moves nothing
        vm.stopPrank();
        vm.prank(fresh);
        vm.expectRevert(_frozen(investor));
        shares.transferFrom(investor, fresh, 1e18);
        // nobody can push shares to a frozen account either (it could not be paid, and it would then hold more)
        vm.prank(operator);
        vm.expectRevert(_frozen(investor));
        shares.transfer(investor, 1e18);
        // everyone else is unaffected
        vm.prank(operator);
        shares.claim(operator);
        // the frozen holder's revenue is kept for it
        _unfreeze(investor);
        vm.prank(investor);
        assertEq(shares.claim(investor), owed, "paid once the freeze is lifted");
    }

    function test_frozenLessee_CannotTakeItsRefund_NorHandTheLeaseOver() public {
        uint256 id = _settledLease();
        (uint256 refund, uint256 credit) = market.refundable(id);
        assertGt(refund, 0, "refund owed");
        assertGt(credit, 0, "credit owed");
        _freeze(lessee);
        vm.startPrank(lessee);
        vm.expectRevert(_frozen(lessee));
        market.claimRefund(id, fresh);
        vm.expectRevert(_frozen(lessee));
        market.transferFrom(lessee, fresh, id);
        market.approve(fresh, id);
        vm.stopPrank();
        // an approved operator cannot move it out for the frozen owner either, nor claim for it
        vm.startPrank(fresh);
        vm.expectRevert(_frozen(lessee));
        market.transferFrom(lessee, fresh, id);
        vm.expectRevert(_frozen(lessee));
        market.claimRefund(id, fresh);
        vm.stopPrank();
        // nor can a clean lessee hand a lease to a frozen account
        uint256 other = openLease(lessee2, 1, 1, LeaseClass.Firm);
        vm.prank(lessee2);
        vm.expectRevert(_frozen(lessee));
        market.transferFrom(lessee2, lessee, other);
        _unfreeze(lessee);
        vm.prank(lessee);
        (uint256 r, uint256 c) = market.claimRefund(id, lessee);
        assertEq(r + c, refund + credit, "nothing lost");
    }

    function test_frozenOperator_CannotTakeFeesProceedsOrBond() public {
        _settledLease();
        vm.prank(operator);
        shares.openSale(100e18, 1e6, uint64(block.timestamp + 1 days));
        vm.prank(investor);
        usdc.approve(address(shares), type(uint256).max);
        vm.prank(investor);
        shares.buy(10e18, 1e6);
        vm.prank(operator);
        registry.setStatus(assetId, AssetStatus.Retired);
        vm.warp(block.timestamp + 10 * EPOCH);
        market.finalizeEpochs(assetId, 10);
        _freeze(operator);
        vm.startPrank(operator);
        vm.expectRevert(_frozen(operator));
        market.withdrawFees(fresh);
        vm.expectRevert(_frozen(operator));
        shares.withdrawProceeds(fresh);
        vm.expectRevert(_frozen(operator));
        registry.withdrawBond(assetId, fresh);
        vm.stopPrank();
        _unfreeze(operator);
        vm.startPrank(operator);
        market.withdrawFees(operator);
        shares.withdrawProceeds(operator);
        registry.withdrawBond(assetId, operator);
        vm.stopPrank();
    }

    function test_frozenAttestorAndTreasury_CannotWithdraw() public {
        _settledLease();
        reportAndFinalize(2, 10_000); // the lease's last epoch: its GPUs are released
        _freeze(treasury);
        vm.prank(treasury);
        vm.expectRevert(_frozen(treasury));
        market.withdrawFees(fresh);
        vm.prank(operator);
        registry.setStatus(assetId, AssetStatus.Retired);
        _freeze(attestorAddrs[0]);
        vm.prank(attestorAddrs[0]);
        vm.expectRevert(_frozen(attestorAddrs[0]));
        oracle.withdrawStake(assetId, fresh);
        vm.prank(attestorAddrs[1]);
        oracle.withdrawStake(assetId, attestorAddrs[1]); // the others are unaffected
    }

    // ---------------------------------------------------------------- frozen protocol contracts, pauses

    function test_frozenLeaseMarket_SettlementGoesOn_CreditsPaidFromTheRegistry() public {
        uint256 id = openLease(lessee, 4, 3, LeaseClass.Firm);
        skipAndFinalize(0);
        _freeze(address(market));
        // epochs owing an SLA credit still finalize: settlement moves no tokens
        reportAndFinalize(1, 5_000);
        reportAndFinalize(2, 0);
        assertEq(market.ledgerOf(assetId).nextEpochToFinalize, 3, "settled past the freeze");
        (uint256 refund, uint256 credit) = market.refundable(id);
        assertGt(credit, 0, "credit owed");
        uint256 held = registry.slashedFor(address(market));
        assertGe(held, credit, "the registry holds the credits");
        assertLe(held - credit, 2, "and at most a unit of dust per epoch");
        vm.prank(lessee);
        vm.expectRevert(abi.encodeWithSelector(TestStablecoin.StablecoinBlocklisted.selector, address(market)));
        market.claimRefund(id, lessee); // the escrow itself is frozen: nothing can leave the market
        _unfreeze(address(market));
        uint256 before = usdc.balanceOf(lessee);
        vm.prank(lessee);
        market.claimRefund(id, lessee);
        assertEq(usdc.balanceOf(lessee) - before, refund + credit, "paid in full once unfrozen");
    }

    function test_pausedToken_SettlementOwingACreditCompletes() public {
        uint256 id = openLease(lessee, 4, 2, LeaseClass.Firm);
        skipAndFinalize(0);
        reportAndWaitWindow(1, 5_000);
        reportAndWaitWindow(2, 5_000);
        vm.prank(admin);
        usdc.pause();
        assertEq(market.finalizeEpochs(assetId, 5), 2, "both epochs owing credits settle while paused");
        (, uint256 credit) = market.refundable(id);
        assertGt(credit, 0, "credited");
        vm.prank(admin);
        usdc.unpause();
        vm.prank(lessee);
        market.claimRefund(id, lessee);
    }

    function test_pausedToken_ChallengeLodgedUnbonded_TheArbiterStillCorrects() public {
        uint256 id = openLease(lessee, 4, 2, LeaseClass.Firm);
        skipAndFinalize(0);
        vm.warp(epochStart(2));
        Report memory r = makeReport(1, 10_000); // a fraudulent report: nothing was delivered
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.prank(admin);
        usdc.pause();
        uint256 before = usdc.balanceOf(challenger);
        vm.expectEmit(true, true, true, true, address(oracle));
        emit IMetricsOracle.ChallengeUnbonded(assetId, 1, challenger);
        vm.prank(challenger);
        oracle.challenge(assetId, 1); // a pause cannot close the window on a fraudulent report
        assertEq(uint8(oracle.reportOf(assetId, 1).status), uint8(ReportStatus.Challenged), "lodged");
        assertEq(usdc.balanceOf(challenger), before, "unbonded");
        vm.warp(block.timestamp + WINDOW + 1);
        assertEq(market.finalizeEpochs(assetId, 1), 0, "settlement waits for the arbiter");
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 1, Verdict({voided: false, uptimeBps: 0, curtailedBps: 0, faultyAttestors: 0}));
        assertEq(market.finalizeEpochs(assetId, 1), 1, "settles with the verdict, while still paused");
        vm.prank(admin);
        usdc.unpause();
        (uint256 refund,) = market.refundable(id);
        assertEq(refund, market.leaseOf(id).ratePerEpoch, "the lessee is not charged for the fraudulent epoch");
        assertEq(oracle.creditOf(challenger), 0, "an unbonded challenger wins nothing");
    }

    function test_pausedToken_UnpaidChallengerWinsNothing() public {
        vm.warp(epochStart(1));
        Report memory r = makeReport(0, 10_000);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.prank(admin);
        usdc.pause();
        vm.prank(challenger);
        oracle.challenge(assetId, 0);
        vm.prank(admin);
        oracle.resolveChallenge(assetId, 0, Verdict({voided: false, uptimeBps: 0, curtailedBps: 0, faultyAttestors: 0}));
        assertEq(oracle.creditOf(challenger), 0, "risked nothing, won nothing");
        assertGt(oracle.creditOf(treasury), 0, "the slash went to the treasury");
        vm.prank(admin);
        usdc.unpause();
        // the fraud slash is paid out of the registry when the treasury withdraws
        uint256 owedToTreasury = oracle.creditOf(treasury);
        vm.prank(treasury);
        oracle.withdraw(treasury);
        assertEq(usdc.balanceOf(treasury), owedToTreasury, "paid, drawn from the registry");
    }

    // ---------------------------------------------------------------- token admission

    function test_registry_RefusesATokenWithoutCodeOrWithUnsupportedDecimals() public {
        CapacitySharesFactory factory = new CapacitySharesFactory();
        address noCode = address(0xC0DE);
        vm.expectRevert(abi.encodeWithSelector(IStablecoinGuard.StablecoinUnsupported.selector, noCode, 0));
        new CapacityRegistry(admin, IERC20(noCode), factory, defaultParams(), usdcBlocklist());
        DecimalsToken one = new DecimalsToken(1);
        vm.expectRevert(abi.encodeWithSelector(IStablecoinGuard.StablecoinUnsupported.selector, address(one), 1));
        new CapacityRegistry(admin, IERC20(address(one)), factory, defaultParams(), usdcBlocklist());
        DecimalsToken nineteen = new DecimalsToken(19);
        vm.expectRevert(abi.encodeWithSelector(IStablecoinGuard.StablecoinUnsupported.selector, address(nineteen), 19));
        new CapacityRegistry(admin, IERC20(address(nineteen)), factory, defaultParams(), usdcBlocklist());
        // the bounds themselves are supported
        assertEq(_market(new DecimalsToken(2)).minEnergyIncome(), 1, "a hundredth of a 2-decimal coin");
        assertEq(_market(new DecimalsToken(18)).minEnergyIncome(), 1e16, "a hundredth of an 18-decimal coin");
        assertEq(market.minEnergyIncome(), 10_000, "a hundredth of USDC");
    }

    function _market(DecimalsToken token) internal returns (LeaseMarket m) {
        CapacityRegistry r = new CapacityRegistry(
            admin, IERC20(address(token)), new CapacitySharesFactory(), defaultParams(), usdcBlocklist()
        );
        m = new LeaseMarket(r, new MetricsOracle(r, new GridLedger(r)));
    }

    /// @dev The protocol on a fee-on-transfer coin, the operator funded and approving every contract.
    function _deployOn(TestFeeToken fee) internal returns (CapacityRegistry r, MetricsOracle o, LeaseMarket m) {
        r = new CapacityRegistry(
            admin,
            IERC20(address(fee)),
            new CapacitySharesFactory(),
            defaultParams(),
            Blocklist({target: address(0), selector: bytes4(0)})
        );
        o = new MetricsOracle(r, new GridLedger(r));
        m = new LeaseMarket(r, o);
        vm.prank(admin);
        r.wire(address(m), address(o));
        fee.mint(operator, 1_000_000 * USDC);
        vm.startPrank(operator);
        fee.approve(address(r), type(uint256).max);
        fee.approve(address(o), type(uint256).max);
        fee.approve(address(m), type(uint256).max);
        vm.stopPrank();
    }

    function test_feeOnTransferToken_RefusedAtEveryEntryPoint() public {
        TestFeeToken fee = new TestFeeToken();
        (CapacityRegistry r,,) = _deployOn(fee);
        vm.startPrank(operator);
        uint256 bond = defaultAsset().bond;
        vm.expectRevert(
            abi.encodeWithSelector(IStablecoinGuard.TokenTransferShort.selector, address(fee), bond, bond * 99 / 100)
        );
        r.registerAsset(defaultAsset());
        vm.stopPrank();
        assertEq(fee.balanceOf(address(r)), 0, "nothing moved");
    }

    function test_feeOnTransfer_LeaseIncomeStakeAndChallenge() public {
        // the same checks on the other entry points, with a token that starts charging after deployment
        TestFeeToken fee = new TestFeeToken();
        fee.setFeeBps(0);
        (CapacityRegistry r, MetricsOracle o, LeaseMarket m) = _deployOn(fee);
        vm.startPrank(operator);
        uint256 id = r.registerAsset(defaultAsset());
        fee.setFeeBps(100);
        bytes memory short =
            abi.encodeWithSelector(IStablecoinGuard.TokenTransferShort.selector, address(fee), 1e6, 99e4);
        vm.expectRevert(short);
        r.depositBond(id, 1e6);
        vm.expectRevert(short);
        o.depositStake(id, attestorAddrs[0], 1e6);
        vm.expectRevert(short);
        m.depositEnergyIncome(id, 1e6, bytes32("ref"));
        uint256 rate = 4 * m.quote(id, 4, LeaseClass.Firm); // hourly epochs
        vm.expectRevert(
            abi.encodeWithSelector(IStablecoinGuard.TokenTransferShort.selector, address(fee), rate, rate * 99 / 100)
        );
        m.openLease(id, 4, 1, LeaseClass.Firm, type(uint256).max);
        vm.stopPrank();
        assertEq(m.owed(), 0, "nothing recorded");
    }

    // ---------------------------------------------------------------- sweep

    function test_sweepSurplus_ReturnsWhatWasSentByMistake_NeverWhatIsOwed() public {
        uint256 id = _settledLease();
        uint256 owed = market.owed();
        assertEq(usdc.balanceOf(address(market)), owed, "holds what it owes");
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketNothingToSweep.selector, owed, owed));
        market.sweepSurplus();
        vm.prank(lessee2);
        usdc.transfer(address(market), 123 * USDC); // a bare transfer (or transferWithAuthorization)
        assertEq(market.sweepSurplus(), 123 * USDC, "the stray amount");
        assertEq(usdc.balanceOf(treasury), 123 * USDC, "to the treasury");
        assertEq(market.owed(), owed, "owed untouched");
        vm.prank(lessee);
        market.claimRefund(id, lessee); // everyone is still paid
    }

    // ---------------------------------------------------------------- fair markets

    function test_listedLease_SellerCannotEmptyIt_TheRefundFollowsTheNft() public {
        uint256 id = openLease(lessee, 4, 10, LeaseClass.Firm);
        vm.warp(epochStart(3));
        vm.prank(lessee);
        market.approve(fresh, id); // listed: a marketplace may transfer it
        uint256 before = usdc.balanceOf(lessee);
        vm.prank(lessee);
        uint256 refunded = market.closeLease(id); // the seller closes just before the sale fills
        assertEq(usdc.balanceOf(lessee), before, "the seller got nothing");
        vm.prank(fresh);
        market.transferFrom(lessee, lessee2, id); // the sale fills
        vm.prank(lessee);
        vm.expectRevert(abi.encodeWithSelector(ILeaseMarket.MarketNotLeaseOwner.selector, id, lessee));
        market.claimRefund(id, lessee);
        uint256 buyerBefore = usdc.balanceOf(lessee2);
        vm.prank(lessee2);
        market.claimRefund(id, lessee2);
        assertEq(usdc.balanceOf(lessee2) - buyerBefore, refunded, "the buyer holds the refund");
    }

    function test_cancelFrontRun_CostsTheAttackerAnEpoch() public {
        // The attacker opens ahead of the victim and cancels before the start: it pays one epoch's rate.
        uint256 attackerBefore = usdc.balanceOf(lessee2);
        uint256 front = openLease(lessee2, 7, 24, LeaseClass.Firm);
        uint256 rate = market.leaseOf(front).ratePerEpoch;
        vm.prank(lessee2);
        market.closeLease(front);
        vm.prank(lessee2);
        market.claimRefund(front, lessee2);
        assertEq(attackerBefore - usdc.balanceOf(lessee2), rate, "cancelling cost one epoch's rate");
    }
}

/// @dev A token with chosen decimals (admission tests).
contract DecimalsToken {
    uint8 public immutable decimals;

    constructor(uint8 d) {
        decimals = d;
    }
}
