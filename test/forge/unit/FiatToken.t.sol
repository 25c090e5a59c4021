// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {PaymentRouter} from "../../../contracts/PaymentRouter.sol";
import {AssetStatus} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {Report, ReportStatus, Verdict} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Payment, PaymentKind} from "../../../contracts/interfaces/IPaymentRouter.sol";
import {IStablecoinGuard} from "../../../contracts/interfaces/IStablecoinGuard.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {CreditFixture} from "../utils/CreditFixture.sol";
import {FiatTokenDeployer, IFiatToken} from "../utils/FiatToken.sol";

/// @notice The protocol on Circle's real FiatToken v2.2 (USDC) behind its proxy, initialized as Circle deploys
///         it: the life cycle, the issuer's blocklist on every kind of party and on each protocol contract,
///         and pauses during a challenge window, during settlement and with open loans.
contract FiatTokenTest is CreditFixture {
    IFiatToken internal fiat;
    address internal proxyAdmin = address(0xAD41);
    address internal fresh = address(0xF4E5);

    /// @dev The fixture runs on FiatToken: `usdc` points at the proxy (its ERC-20, mint and pause calls are
    ///      FiatToken's own under the same signatures); the issuer is the fixture's admin.
    function deployStablecoin() internal override returns (TestStablecoin) {
        fiat = FiatTokenDeployer.deploy(admin, proxyAdmin);
        return TestStablecoin(address(fiat));
    }

    function _blacklist(address account) internal {
        vm.prank(admin);
        fiat.blacklist(account);
    }

    function _unBlacklist(address account) internal {
        vm.prank(admin);
        fiat.unBlacklist(account);
    }

    function _frozen(address account) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IStablecoinGuard.StablecoinAccountFrozen.selector, account);
    }

    function test_deployedAsCircleDoes() public view {
        assertEq(fiat.version(), "2", "FiatToken v2.2 reports version 2");
        assertEq(fiat.name(), "USD Coin", "name");
        assertEq(registry.wholeCoin(), 1e6, "six decimals read from the token");
        assertTrue(registry.blocklist().target == address(fiat), "the blocklist is USDC's own");
    }

    function test_lifeCycle_OnRealUsdc() public {
        uint256 id = openLease(lessee, 4, 2, LeaseClass.Firm);
        skipAndFinalize(0);
        reportAndFinalize(1, 10_000);
        reportAndFinalize(2, 5_000);
        vm.prank(lessee);
        (uint256 refund, uint256 credit) = market.claimRefund(id, lessee);
        assertGt(refund, 0, "refund");
        assertGt(credit, 0, "SLA credit, paid from the registry");
        vm.prank(investor);
        assertGt(shares.claim(investor), 0, "holder revenue");
        vm.prank(operator);
        assertGt(market.withdrawFees(operator), 0, "operator fee");
        vm.prank(treasury);
        assertGt(market.withdrawFees(treasury), 0, "protocol fee");
        assertEq(fiat.balanceOf(address(market)), market.owed(), "holds exactly what it owes");
    }

    function test_blocklistedParties_FrozenOnlyThemselves() public {
        uint256 id = openLease(lessee, 4, 2, LeaseClass.Firm);
        skipAndFinalize(0);
        reportAndFinalize(1, 5_000);
        address[4] memory parties = [investor, lessee, operator, treasury];
        for (uint256 i; i < parties.length; ++i) {
            _blacklist(parties[i]);
        }
        vm.prank(investor);
        vm.expectRevert(_frozen(investor));
        shares.claim(fresh);
        vm.prank(investor);
        vm.expectRevert(_frozen(investor));
        shares.transfer(fresh, 1e18);
        vm.prank(lessee);
        vm.expectRevert(_frozen(lessee));
        market.claimRefund(id, fresh);
        vm.prank(lessee);
        vm.expectRevert(_frozen(lessee));
        market.transferFrom(lessee, fresh, id);
        vm.prank(operator);
        vm.expectRevert(_frozen(operator));
        market.withdrawFees(fresh);
        vm.prank(treasury);
        vm.expectRevert(_frozen(treasury));
        market.withdrawFees(fresh);
        // settlement and everyone else go on
        reportAndFinalize(2, 10_000);
        vm.prank(lessee2);
        market.openLease(assetId, 1, 1, LeaseClass.Firm, type(uint256).max);
        for (uint256 i; i < parties.length; ++i) {
            _unBlacklist(parties[i]);
        }
        vm.prank(lessee);
        market.claimRefund(id, lessee);
        vm.prank(investor);
        shares.claim(investor);
    }

    function test_blocklistedProtocolContracts_SettlementDisputesAndLoansGoOn() public {
        // a loan on the asset, revenue flowing to its collateral
        earn(1_000, SEASONED + NAV_WINDOW);
        depositCollateral(100e18);
        borrow(credit.borrowCapacity(assetId, borrower));
        runEpochs(1, 10_000);
        // the issuer freezes the LeaseMarket, the registry and the oracle
        _blacklist(address(market));
        _blacklist(address(registry));
        _blacklist(address(oracle));
        assertTrue(fiat.isBlacklisted(address(market)), "really frozen");
        vm.prank(lessee);
        vm.expectRevert(bytes("Blacklistable: account is blacklisted"));
        fiat.transfer(address(market), 1);
        // a report is challenged: the bond cannot move into the frozen oracle, the challenge stands
        uint64 epoch = market.ledgerOf(assetId).nextEpochToFinalize;
        vm.warp(epochStart(epoch + 1));
        Report memory r = makeReport(epoch, 10_000);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.prank(challenger);
        oracle.challenge(assetId, epoch);
        vm.prank(admin);
        oracle.resolveChallenge(
            assetId, epoch, Verdict({voided: false, uptimeBps: 0, curtailedBps: 0, faultyAttestors: 0})
        );
        assertEq(uint8(oracle.reportOf(assetId, epoch).status), uint8(ReportStatus.Corrected), "resolved");
        // settlement goes on (owing SLA credits and the fraud slash, moving no tokens)
        market.finalizeEpoch(assetId, epoch);
        nav.update();
        runEpochs(NAV_WINDOW + 2, 0);
        // loans: repay and liquidation go on without the LeaseMarket paying revenue
        vm.prank(borrower);
        credit.repay(assetId, MIN_DEBT, borrower);
        assertLt(credit.healthFactor(assetId, borrower), 1e18, "unhealthy");
        vm.prank(liquidator);
        assertGt(credit.liquidate(assetId, borrower, type(uint256).max, liquidator), 0, "liquidated");
        _unBlacklist(address(market));
        _unBlacklist(address(registry));
        _unBlacklist(address(oracle));
        credit.settle(assetId, borrower);
        assertEq(shares.claimable(address(credit)), 0, "collateral revenue collected once unfrozen");
    }

    function test_frozenRegistry_RefundPaidCreditsKept() public {
        uint256 id = openLease(lessee, 4, 1, LeaseClass.Firm);
        skipAndFinalize(0);
        reportAndFinalize(1, 5_000);
        (uint256 refund, uint256 credit) = market.refundable(id);
        _blacklist(address(registry));
        vm.prank(lessee);
        (uint256 paid, uint256 credited) = market.claimRefund(id, lessee);
        assertEq(paid, refund, "the escrow refund is paid");
        assertEq(credited, 0, "the bond's credit waits");
        _unBlacklist(address(registry));
        vm.prank(lessee);
        (, credited) = market.claimRefund(id, lessee);
        assertEq(credited, credit, "and is paid in full later");
    }

    function test_pauses_ChallengeWindowSettlementAndOpenLoans() public {
        earn(1_000, SEASONED + NAV_WINDOW);
        depositCollateral(100e18);
        borrow(credit.borrowCapacity(assetId, borrower));
        uint64 epoch = market.ledgerOf(assetId).nextEpochToFinalize;
        vm.warp(epochStart(epoch + 1));
        Report memory r = makeReport(epoch, 10_000);
        oracle.submitReport(r, cosignFirst(r, 2));
        vm.prank(admin);
        fiat.pause();
        // during the challenge window: lodged, its bond due
        vm.prank(challenger);
        oracle.challenge(assetId, epoch);
        vm.prank(admin);
        oracle.resolveChallenge(
            assetId, epoch, Verdict({voided: false, uptimeBps: 2_000, curtailedBps: 0, faultyAttestors: 0})
        );
        // during settlement: the corrected epoch owes an SLA credit and settles
        market.finalizeEpoch(assetId, epoch);
        // with open loans: the pause is recorded, liquidations wait out the grace after it
        credit.recordStablecoinPause();
        assertGt(credit.stablecoinGraceUntil(), block.timestamp, "grace running");
        vm.prank(admin);
        fiat.unpause();
        vm.prank(borrower);
        credit.repay(assetId, MIN_DEBT, borrower);
    }

    function test_paymentRouter_PermitAndAuthorization_OnRealUsdc() public {
        PaymentRouter router = new PaymentRouter(registry);
        uint256 key = 0xBA7E5;
        address payer = vm.addr(key);
        vm.prank(admin);
        fiat.mint(payer, 1_000 * USDC);
        uint256 value = market.quote(assetId, 1, LeaseClass.Firm);
        // EIP-2612 permit, signed over FiatToken's own domain
        Payment memory p;
        p.kind = PaymentKind.Permit;
        p.value = value;
        p.deadline = block.timestamp + 1 hours;
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                fiat.DOMAIN_SEPARATOR(),
                keccak256(
                    abi.encode(
                        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                        payer,
                        address(router),
                        value,
                        fiat.nonces(payer),
                        p.deadline
                    )
                )
            )
        );
        (p.v, p.r, p.s) = vm.sign(key, digest);
        vm.prank(payer);
        uint256 id = router.openLease(p, assetId, 1, 1, LeaseClass.Firm, type(uint256).max);
        assertEq(market.ownerOf(id), payer, "leased by permit");
        // EIP-3009 receiveWithAuthorization
        uint256 rate = market.leaseOf(id).ratePerEpoch;
        p.kind = PaymentKind.Authorization;
        p.value = rate;
        p.validAfter = 0;
        p.nonce = bytes32("usdc-3009");
        digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                fiat.DOMAIN_SEPARATOR(),
                keccak256(
                    abi.encode(
                        keccak256(
                            "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
                        ),
                        payer,
                        address(router),
                        rate,
                        p.validAfter,
                        p.deadline,
                        p.nonce
                    )
                )
            )
        );
        (p.v, p.r, p.s) = vm.sign(key, digest);
        vm.prank(payer);
        assertEq(router.extendLease(p, id, 1), rate, "extended by authorization");
    }

    function test_transferWithAuthorizationToTheMarket_IsSweptNotLost() public {
        uint256 key = 0xBA7E5;
        address payer = vm.addr(key);
        vm.prank(admin);
        fiat.mint(payer, 10 * USDC);
        bytes32 nonce = bytes32("stray");
        uint256 validBefore = block.timestamp + 1 hours;
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                fiat.DOMAIN_SEPARATOR(),
                keccak256(
                    abi.encode(
                        keccak256(
                            "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
                        ),
                        payer,
                        address(market),
                        10 * USDC,
                        0,
                        validBefore,
                        nonce
                    )
                )
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        fiat.transferWithAuthorization(payer, address(market), 10 * USDC, 0, validBefore, nonce, v, r, s);
        assertEq(market.sweepSurplus(), 10 * USDC, "credited to nobody, so swept to the treasury");
        assertEq(fiat.balanceOf(treasury), 10 * USDC, "the treasury holds it (to return to the sender)");
    }

    function test_deactivatedAsset_BondReturnsOnlyToAnUnfrozenOperator() public {
        vm.prank(operator);
        registry.setStatus(assetId, AssetStatus.Retired);
        _blacklist(operator);
        vm.prank(operator);
        vm.expectRevert(_frozen(operator));
        registry.withdrawBond(assetId, fresh);
        _unBlacklist(operator);
        uint256 before = fiat.balanceOf(operator);
        vm.prank(operator);
        registry.withdrawBond(assetId, operator);
        assertGt(fiat.balanceOf(operator), before, "returned");
    }
}
