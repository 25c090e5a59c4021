// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CapacityRegistry} from "../../../contracts/CapacityRegistry.sol";
import {CapacityShares} from "../../../contracts/CapacityShares.sol";
import {LeaseMarket} from "../../../contracts/LeaseMarket.sol";
import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {AssetStatus, AssetTerms} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {EpochIndex, Lease, LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {Verdict} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Payment, PaymentKind} from "../../../contracts/interfaces/IPaymentRouter.sol";
import {IStablecoinGuard} from "../../../contracts/interfaces/IStablecoinGuard.sol";
import {PaymentRouter} from "../../../contracts/PaymentRouter.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";

/// @notice Drives random sequences of lease, share, report, challenge, settlement and claim actions,
///         keeping ghost totals of every stablecoin flow in and out of the LeaseMarket. The issuer acts too:
///         at any step it may freeze or unfreeze any user (lessees, holders, the operator, the treasury, the
///         challenger) or any protocol contract (the LeaseMarket, the registry, the oracle), and pause or
///         unpause the token. A frozen account's payout or transfer must revert with StablecoinAccountFrozen
///         (counted in `ghostFrozenEscapes` if it does not); settlement must never revert for any of it.
contract ProtocolHandler is HandlerBase {
    TestStablecoin public usdc;
    CapacityRegistry public registry;
    MetricsOracle public oracle;
    LeaseMarket public market;
    CapacityShares public shares;
    uint256 public assetId;
    address public admin;
    uint256[3] internal keys;

    address[4] public actors = [address(0xA1), address(0xA2), address(0xA3), address(0xA4)];
    address[] public holders;
    uint256[] public leaseIds;

    // ghost flows of the market's stablecoin
    uint256 public ghostIn; // prepayments + bond credits
    uint256 public ghostOut; // every transfer out of the market, and of credits out of the registry for it
    uint256 public ghostClaimed; // every holder revenue claim
    uint256 public ghostFrozenEscapes; // payouts or transfers by a frozen account that went through (must stay 0)
    uint256 public ghostFrozenRefusals; // payouts or transfers by a frozen account that were refused
    uint256 public ghostRoutedPayments; // leases opened in one transaction with an EIP-3009 authorization

    PaymentRouter public router;
    uint256 internal constant PAYER_KEY = 0xBA7E5;
    bool public tokenPaused;

    // per finalized epoch: the fractions a lease of each class is charged (scale 1e8)
    mapping(uint64 epoch => uint256) public firmFraction;
    mapping(uint64 epoch => uint256) public interruptibleFraction;
    mapping(uint64 epoch => bytes32) public finalizedIndexHash;
    uint64 public finalizedCount;

    constructor(
        TestStablecoin usdc_,
        CapacityRegistry registry_,
        MetricsOracle oracle_,
        LeaseMarket market_,
        uint256 assetId_,
        address admin_,
        uint256[3] memory keys_,
        address[] memory initialHolders
    ) {
        usdc = usdc_;
        registry = registry_;
        oracle = oracle_;
        market = market_;
        assetId = assetId_;
        admin = admin_;
        keys = keys_;
        shares = CapacityShares(registry_.terms(assetId_).shares);
        for (uint256 i; i < initialHolders.length; ++i) {
            holders.push(initialHolders[i]);
        }
        router = new PaymentRouter(registry_);
        vm.prank(admin_);
        usdc_.mint(vm.addr(PAYER_KEY), 1e15);
        vm.prank(vm.addr(PAYER_KEY));
        usdc_.approve(address(market_), type(uint256).max); // for its later extensions
        for (uint256 i; i < actors.length; ++i) {
            holders.push(actors[i]);
            vm.prank(admin_);
            usdc_.mint(actors[i], 1e15);
            vm.startPrank(actors[i]);
            usdc_.approve(address(market_), type(uint256).max);
            usdc_.approve(address(oracle_), type(uint256).max);
            vm.stopPrank();
        }
    }

    function leaseCount() external view returns (uint256) {
        return leaseIds.length;
    }

    function holderCount() external view returns (uint256) {
        return holders.length;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _terms() internal view returns (AssetTerms memory) {
        return registry.terms(assetId);
    }

    function _frozen(address account) internal view returns (bool) {
        return usdc.isBlacklisted(account);
    }

    /// @dev Whether the token can move anything out of the market at all (the issuer's doing, not a user's).
    function _marketCanPay() internal view returns (bool) {
        return !tokenPaused && !_frozen(address(market));
    }

    /// @dev A frozen account's attempt: it must revert with StablecoinAccountFrozen and move nothing.
    function _expectFrozen(address who, address target, bytes memory data) internal {
        uint256 before = usdc.balanceOf(who);
        vm.prank(who);
        (bool ok, bytes memory ret) = target.call(data);
        if (ok || bytes4(ret) != IStablecoinGuard.StablecoinAccountFrozen.selector) ++ghostFrozenEscapes;
        else ++ghostFrozenRefusals;
        if (usdc.balanceOf(who) != before) ++ghostFrozenEscapes;
    }

    // ---------------------------------------------------------------- the issuer

    /// @param targetSeed 0-3: the actors; 4: the operator; 5: the treasury; 6: the LeaseMarket; 7: the
    ///        registry; 8: the oracle; 9: an investor
    function freeze(uint256 targetSeed, bool frozen) external {
        address[10] memory targets = [
            actors[0],
            actors[1],
            actors[2],
            actors[3],
            _terms().operator,
            registry.protocolParams().treasury,
            address(market),
            address(registry),
            address(oracle),
            holders[0]
        ];
        vm.prank(admin);
        usdc.setBlocklisted(targets[targetSeed % targets.length], frozen);
    }

    function pauseToken(bool paused) external {
        if (paused == tokenPaused) return;
        vm.prank(admin);
        if (paused) usdc.pause();
        else usdc.unpause();
        tokenPaused = paused;
    }

    // ---------------------------------------------------------------- actions

    function openLease(uint256 actorSeed, uint32 gpus, uint64 epochs, bool firm) external {
        uint32 available = market.availableGpus(assetId);
        if (available == 0) return;
        gpus = uint32(bound(gpus, 1, available));
        epochs = uint64(bound(epochs, 1, 6));
        address who = _actor(actorSeed);
        if (tokenPaused || _frozen(who) || _frozen(address(market))) return; // the token refuses the payment
        vm.prank(who);
        uint256 id = market.openLease(
            assetId, gpus, epochs, firm ? LeaseClass.Firm : LeaseClass.Interruptible, type(uint256).max
        );
        leaseIds.push(id);
        ghostIn += uint256(market.leaseOf(id).ratePerEpoch) * epochs;
    }

    function closeLease(uint256 leaseSeed) external {
        if (leaseIds.length == 0) return;
        uint256 id = leaseIds[leaseSeed % leaseIds.length];
        Lease memory l = market.leaseOf(id);
        uint64 newEnd = registry.currentEpoch(assetId) + 1;
        if (newEnd < l.startEpoch) newEnd = l.startEpoch;
        if (newEnd >= l.endEpoch) return;
        vm.prank(market.ownerOf(id));
        market.closeLease(id); // the refund stays with the lease until its holder claims it
    }

    /// @dev A lease opened and paid in one transaction through the router with an EIP-3009 authorization.
    function openLeaseWithAuthorization(uint32 gpus, uint64 epochs, bool firm) external {
        uint32 available = market.availableGpus(assetId);
        address payer = vm.addr(PAYER_KEY);
        if (available == 0 || tokenPaused || _frozen(payer) || _frozen(address(market))) return;
        gpus = uint32(bound(gpus, 1, available));
        epochs = uint64(bound(epochs, 1, 6));
        LeaseClass class = firm ? LeaseClass.Firm : LeaseClass.Interruptible;
        uint256 price = market.quote(assetId, gpus, class);
        // the rate rounds up from price x GPUs x epoch length / 3600; pay a margin, the router returns it
        uint256 value = (price * gpus * _terms().epochLength / 3600 + 1) * epochs + 1e6;
        Payment memory p;
        p.kind = PaymentKind.Authorization;
        p.value = value;
        p.deadline = block.timestamp + 1;
        p.nonce = keccak256(abi.encode(ghostRoutedPayments, block.timestamp));
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                usdc.DOMAIN_SEPARATOR(),
                keccak256(
                    abi.encode(
                        usdc.RECEIVE_WITH_AUTHORIZATION_TYPEHASH(),
                        payer,
                        address(router),
                        value,
                        0,
                        p.deadline,
                        p.nonce
                    )
                )
            )
        );
        (p.v, p.r, p.s) = vm.sign(PAYER_KEY, digest);
        uint256 before = usdc.balanceOf(payer);
        vm.prank(payer);
        uint256 id = router.openLease(p, assetId, gpus, epochs, class, type(uint256).max);
        leaseIds.push(id);
        uint256 prepaid = uint256(market.leaseOf(id).ratePerEpoch) * epochs;
        ghostIn += prepaid;
        ++ghostRoutedPayments;
        assertEq(before - usdc.balanceOf(payer), prepaid, "the router charged the prepayment, no more");
        assertEq(usdc.balanceOf(address(router)), 0, "the router keeps nothing");
    }

    function extendLease(uint256 leaseSeed, uint64 epochs) external {
        if (leaseIds.length == 0) return;
        uint256 id = leaseIds[leaseSeed % leaseIds.length];
        Lease memory l = market.leaseOf(id);
        if (l.endEpoch == l.startEpoch || l.endEpoch <= registry.currentEpoch(assetId)) return;
        if (_terms().status != AssetStatus.Active) return;
        epochs = uint64(bound(epochs, 1, 4));
        address owner = market.ownerOf(id);
        if (tokenPaused || _frozen(owner) || _frozen(address(market))) return;
        vm.prank(owner);
        ghostIn += market.extendLease(id, epochs);
    }

    function transferLease(uint256 leaseSeed, uint256 toSeed) external {
        if (leaseIds.length == 0) return;
        uint256 id = leaseIds[leaseSeed % leaseIds.length];
        address owner = market.ownerOf(id);
        address to = _actor(toSeed);
        if (_frozen(owner) || _frozen(to)) {
            _expectFrozen(owner, address(market), abi.encodeCall(market.transferFrom, (owner, to, id)));
            if (market.ownerOf(id) != owner) ++ghostFrozenEscapes;
            return;
        }
        vm.prank(owner);
        market.transferFrom(owner, to, id);
    }

    function transferShares(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = holders[fromSeed % holders.length];
        address to = holders[toSeed % holders.length];
        amount = bound(amount, 0, shares.balanceOf(from));
        if (_frozen(from) || _frozen(to)) {
            uint256 held = shares.balanceOf(from);
            _expectFrozen(from, address(shares), abi.encodeCall(shares.transfer, (to, amount)));
            if (shares.balanceOf(from) != held) ++ghostFrozenEscapes;
            return;
        }
        vm.prank(from);
        shares.transfer(to, amount);
    }

    function claimRefund(uint256 leaseSeed) external {
        if (leaseIds.length == 0) return;
        uint256 id = leaseIds[leaseSeed % leaseIds.length];
        (uint256 refund, uint256 credit) = market.refundable(id);
        if (refund + credit == 0) return;
        address owner = market.ownerOf(id);
        if (_frozen(owner)) {
            _expectFrozen(owner, address(market), abi.encodeCall(market.claimRefund, (id, address(0xF4E5))));
            return;
        }
        if (!_marketCanPay()) return; // the escrow itself cannot move: nothing anyone can do
        if (refund == 0 && (_frozen(address(registry)) || tokenPaused)) return; // only the bond's credit, held
        vm.prank(owner);
        (uint256 paid, uint256 credited) = market.claimRefund(id, owner);
        assertEq(paid, refund, "the refund is paid in full");
        // the credit waits only while the registry holding it is frozen
        assertEq(credited, _frozen(address(registry)) ? 0 : credit, "the credit is paid unless the registry is frozen");
        ghostOut += paid + credited;
    }

    function claimRevenue(uint256 holderSeed) external {
        address h = holders[holderSeed % holders.length];
        uint256 amount = shares.claimable(h);
        if (amount == 0) return;
        if (_frozen(h)) {
            _expectFrozen(h, address(shares), abi.encodeCall(shares.claim, (address(0xF4E5))));
            return;
        }
        if (!_marketCanPay()) return;
        vm.prank(h);
        shares.claim(h);
        ghostOut += amount;
        ghostClaimed += amount;
    }

    function withdrawFees(bool treasury) external {
        address who = treasury ? registry.protocolParams().treasury : _terms().operator;
        uint256 amount = market.feesOf(who) + (treasury ? market.protocolFees() : 0);
        if (amount == 0) return;
        if (_frozen(who)) {
            _expectFrozen(who, address(market), abi.encodeCall(market.withdrawFees, (address(0xF4E5))));
            return;
        }
        if (!_marketCanPay()) return;
        vm.prank(who);
        market.withdrawFees(who);
        ghostOut += amount;
    }

    /// @param mode 0-1: a signed report; 2: no report; 3: challenged and voided; 4: challenged and upheld;
    ///        5: challenged and corrected to half the uptime
    function settleNextEpoch(uint32 uptime, uint32 curtailed, uint8 mode) external {
        AssetTerms memory t = _terms();
        uint64 epoch = market.ledgerOf(assetId).nextEpochToFinalize;
        uint256 end = uint256(t.genesis) + uint256(epoch + 1) * t.epochLength;
        mode = uint8(bound(mode, 0, 5));
        uptime = uint32(bound(uptime, 0, 10_000));
        curtailed = uint32(bound(curtailed, 0, 10_000));
        // a frozen challenger cannot pay its own bond while the token is live (its own freeze): no challenge
        if (mode >= 3 && _frozen(actors[0]) && !tokenPaused && !_frozen(address(oracle))) mode = 0;
        bool proven = mode != 2 && mode != 3;
        // curtailment needs a grid event declared before the epoch ends; too late for one: no curtailment
        if (curtailed != 0 && mode != 2 && block.timestamp < end) {
            _declareGridEvent(oracle, keys[0], assetId, epoch, uint64(end - t.epochLength), uint64(end));
        } else {
            curtailed = 0;
        }
        if (mode == 2) {
            _warpTo(end + registry.protocolParams().reportDeadline + 1);
        } else {
            _warpTo(end);
            _submitReport(oracle, keys, assetId, epoch, uptime, curtailed);
            address c = actors[0];
            if (mode >= 3) {
                // while paused, or while the oracle is frozen, the challenge stands with its bond due
                vm.prank(c);
                oracle.challenge(assetId, epoch);
                if (mode == 5) uptime /= 2;
                vm.prank(admin);
                oracle.resolveChallenge(
                    assetId,
                    epoch,
                    Verdict({
                        voided: mode == 3,
                        uptimeBps: uint16(uptime),
                        curtailedBps: uint16(curtailed),
                        faultyAttestors: 0
                    })
                );
            } else {
                _warpTo(block.timestamp + registry.protocolParams().challengeWindow);
            }
        }
        uint256 bondBefore = registry.bondOf(assetId);
        market.finalizeEpoch(assetId, epoch);
        ghostIn += bondBefore - registry.bondOf(assetId);
        firmFraction[epoch] = proven ? uint256(uptime) * 10_000 : 0;
        interruptibleFraction[epoch] = proven ? uint256(uptime) * (10_000 - curtailed) : 0;
        finalizedIndexHash[epoch] = keccak256(abi.encode(market.epochIndexOf(assetId, epoch)));
        finalizedCount = epoch + 1;
    }
}
