// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {PaymentRouter} from "../../../contracts/PaymentRouter.sol";
import {ILeaseMarket, LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {IPaymentRouter, Payment, PaymentKind} from "../../../contracts/interfaces/IPaymentRouter.sol";
import {IStablecoinGuard} from "../../../contracts/interfaces/IStablecoinGuard.sol";
import {CreditFixture} from "../utils/CreditFixture.sol";

/// @notice One-transaction payments: open, extend, buy shares and supply with an EIP-2612 permit or an EIP-3009
///         authorization, and every way a signed payment can be wrong.
contract PaymentRouterTest is CreditFixture {
    bytes32 private constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    PaymentRouter internal router;
    uint256 internal payerKey = 0xBA7E5;
    address internal payer;

    function setUp() public override {
        super.setUp();
        router = new PaymentRouter(registry);
        payer = vm.addr(payerKey);
        vm.prank(admin);
        usdc.mint(payer, 100_000 * USDC);
    }

    function _permit(uint256 key, address spender, uint256 value, uint256 deadline)
        internal
        view
        returns (Payment memory p)
    {
        address owner = vm.addr(key);
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                usdc.DOMAIN_SEPARATOR(),
                keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, usdc.nonces(owner), deadline))
            )
        );
        (p.v, p.r, p.s) = vm.sign(key, digest);
        p.kind = PaymentKind.Permit;
        p.value = value;
        p.deadline = deadline;
    }

    function _authorization(uint256 key, address to, uint256 value, bytes32 nonce)
        internal
        view
        returns (Payment memory p)
    {
        p.kind = PaymentKind.Authorization;
        p.value = value;
        p.validAfter = block.timestamp - 1;
        p.deadline = block.timestamp + 1 hours;
        p.nonce = nonce;
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                usdc.DOMAIN_SEPARATOR(),
                keccak256(
                    abi.encode(
                        usdc.RECEIVE_WITH_AUTHORIZATION_TYPEHASH(),
                        vm.addr(key),
                        to,
                        value,
                        p.validAfter,
                        p.deadline,
                        nonce
                    )
                )
            )
        );
        (p.v, p.r, p.s) = vm.sign(key, digest);
    }

    function _rate(uint32 gpus) internal view returns (uint256) {
        return market.quote(assetId, gpus, LeaseClass.Firm) * gpus; // hourly epochs
    }

    // ---------------------------------------------------------------- the four actions, both kinds

    function test_openLease_WithPermit_OneTransaction_ChangeReturned() public {
        uint256 cost = _rate(2) * 3;
        Payment memory p = _permit(payerKey, address(router), cost + 5 * USDC, block.timestamp + 1 hours);
        uint256 before = usdc.balanceOf(payer);
        vm.prank(payer);
        uint256 id = router.openLease(p, assetId, 2, 3, LeaseClass.Firm, type(uint256).max);
        assertEq(market.ownerOf(id), payer, "the payer holds the lease");
        assertEq(before - usdc.balanceOf(payer), cost, "paid the prepayment, the rest returned");
        assertEq(usdc.balanceOf(address(router)), 0, "the router keeps nothing");
        assertEq(usdc.allowance(address(router), address(market)), 0, "no approval left behind");
    }

    function test_openAndExtend_WithAuthorization() public {
        uint256 cost = _rate(2) * 3;
        Payment memory p = _authorization(payerKey, address(router), cost, bytes32("open"));
        vm.prank(payer);
        uint256 id = router.openLease(p, assetId, 2, 3, LeaseClass.Firm, type(uint256).max);
        uint256 rate = market.leaseOf(id).ratePerEpoch;
        p = _authorization(payerKey, address(router), rate * 2, bytes32("extend"));
        vm.prank(payer);
        assertEq(router.extendLease(p, id, 2), rate * 2, "extended");
        assertEq(market.leaseOf(id).endEpoch, 6, "two more epochs");
        assertTrue(usdc.authorizationState(payer, bytes32("extend")), "nonce used");
    }

    function test_buyShares_AndSupply_WithBothKinds() public {
        vm.prank(operator);
        shares.openSale(100e18, 2 * USDC, uint64(block.timestamp + 1 days));
        Payment memory p = _permit(payerKey, address(router), 20 * USDC, block.timestamp + 1 hours);
        vm.prank(payer);
        assertEq(router.buyShares(p, address(shares), 10e18, 2 * USDC), 20 * USDC, "cost");
        assertEq(shares.balanceOf(payer), 10e18, "shares to the payer");
        p = _authorization(payerKey, address(router), 500 * USDC, bytes32("supply"));
        vm.prank(payer);
        uint256 vaultShares = router.supply(p, address(credit), 500 * USDC);
        assertEq(credit.balanceOf(payer), vaultShares, "vault shares to the payer");
        assertEq(credit.convertToAssets(vaultShares), 500 * USDC, "worth what was supplied");
        p = _permit(payerKey, address(router), 100 * USDC, block.timestamp + 1 hours);
        vm.prank(payer);
        router.supply(p, address(credit), 100 * USDC);
    }

    // ---------------------------------------------------------------- bad payments: named errors, nothing moved

    function test_badPayments_NamedErrors_NothingMoved() public {
        uint256 cost = _rate(1);
        uint256 before = usdc.balanceOf(payer);
        // expired permit
        Payment memory p = _permit(payerKey, address(router), cost, block.timestamp - 1);
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(IPaymentRouter.PaymentNotValidNow.selector, 0, block.timestamp - 1, block.timestamp)
        );
        router.openLease(p, assetId, 1, 1, LeaseClass.Firm, type(uint256).max);
        // a permit for another spender
        p = _permit(payerKey, address(market), cost, block.timestamp + 1 hours);
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentRouter.PaymentPermitRejected.selector, payer, cost, block.timestamp + 1 hours
            )
        );
        router.openLease(p, assetId, 1, 1, LeaseClass.Firm, type(uint256).max);
        // a permit for another amount
        p = _permit(payerKey, address(router), cost, block.timestamp + 1 hours);
        p.value = cost + 1;
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentRouter.PaymentPermitRejected.selector, payer, cost + 1, block.timestamp + 1 hours
            )
        );
        router.openLease(p, assetId, 1, 1, LeaseClass.Firm, type(uint256).max);
        // a permit signed by someone else
        p = _permit(0xBAD, address(router), cost, block.timestamp + 1 hours);
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentRouter.PaymentPermitRejected.selector, payer, cost, block.timestamp + 1 hours
            )
        );
        router.openLease(p, assetId, 1, 1, LeaseClass.Firm, type(uint256).max);
        // an authorization replayed
        p = _authorization(payerKey, address(router), cost, bytes32("once"));
        vm.prank(payer);
        router.openLease(p, assetId, 1, 1, LeaseClass.Firm, type(uint256).max);
        before -= cost;
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(IPaymentRouter.PaymentAuthorizationRejected.selector, payer, cost, bytes32("once"))
        );
        router.openLease(p, assetId, 1, 1, LeaseClass.Firm, type(uint256).max);
        // an authorization signed by someone else, and one not valid yet
        p = _authorization(0xBAD, address(router), cost, bytes32("other"));
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(IPaymentRouter.PaymentAuthorizationRejected.selector, payer, cost, bytes32("other"))
        );
        router.openLease(p, assetId, 1, 1, LeaseClass.Firm, type(uint256).max);
        p = _authorization(payerKey, address(router), cost, bytes32("later"));
        p.validAfter = block.timestamp;
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPaymentRouter.PaymentNotValidNow.selector, block.timestamp, p.deadline, block.timestamp
            )
        );
        router.openLease(p, assetId, 1, 1, LeaseClass.Firm, type(uint256).max);
        // shares that are not this deployment's
        FakeShares fake = new FakeShares();
        vm.expectRevert(abi.encodeWithSelector(IPaymentRouter.PaymentUnknownShares.selector, address(fake)));
        router.buyShares(p, address(fake), 1, 1);
        assertEq(usdc.balanceOf(payer), before, "nothing moved but the one good payment");
        assertEq(usdc.balanceOf(address(router)), 0, "the router keeps nothing");
    }

    // ---------------------------------------------------------------- ERC-1271 on the shares' permit

    function test_sharesPermit_AcceptsASmartContractWallet() public {
        SmartWallet wallet = new SmartWallet(vm.addr(payerKey));
        vm.prank(investor);
        shares.transfer(address(wallet), 5e18);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                shares.DOMAIN_SEPARATOR(),
                keccak256(
                    abi.encode(PERMIT_TYPEHASH, address(wallet), lessee, 5e18, shares.nonces(address(wallet)), deadline)
                )
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(payerKey, digest);
        shares.permit(address(wallet), lessee, 5e18, deadline, v, r, s);
        assertEq(shares.allowance(address(wallet), lessee), 5e18, "approved by the wallet's signature");
        // replayed, or signed by someone else: refused
        vm.expectRevert();
        shares.permit(address(wallet), lessee, 5e18, deadline, v, r, s);
        (v, r, s) = vm.sign(0xBAD, digest);
        vm.expectRevert();
        shares.permit(address(wallet), lessee, 5e18, deadline, v, r, s);
        // an EOA's permit still works
        digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                shares.DOMAIN_SEPARATOR(),
                keccak256(abi.encode(PERMIT_TYPEHASH, payer, lessee, 1, shares.nonces(payer), deadline))
            )
        );
        (v, r, s) = vm.sign(payerKey, digest);
        shares.permit(payer, lessee, 1, deadline, v, r, s);
        assertEq(shares.allowance(payer, lessee), 1, "EOA permit");
    }
}

/// @dev A minimal ERC-1271 wallet: valid when its owner key signed the hash.
contract SmartWallet is IERC1271 {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer,,) = ECDSA.tryRecover(hash, signature);
        return signer == owner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}

/// @dev Claims to be asset 1's shares, and is not.
contract FakeShares {
    function assetId() external pure returns (uint256) {
        return 1;
    }
}
