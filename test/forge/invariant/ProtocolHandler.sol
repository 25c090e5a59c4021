// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CapacityRegistry} from "../../../contracts/CapacityRegistry.sol";
import {CapacityShares} from "../../../contracts/CapacityShares.sol";
import {LeaseMarket} from "../../../contracts/LeaseMarket.sol";
import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {AssetStatus, AssetTerms} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {EpochIndex, Lease, LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {Verdict} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {TestStablecoin} from "../../../contracts/test/TestStablecoin.sol";
import {HandlerBase} from "../utils/HandlerBase.sol";

/// @notice Drives random sequences of lease, share, report, challenge, settlement and claim actions,
///         keeping ghost totals of every stablecoin flow in and out of the LeaseMarket.
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

    // ---------------------------------------------------------------- actions

    function openLease(uint256 actorSeed, uint32 gpus, uint64 epochs, bool firm) external {
        uint32 available = market.availableGpus(assetId);
        if (available == 0) return;
        gpus = uint32(bound(gpus, 1, available));
        epochs = uint64(bound(epochs, 1, 6));
        address who = _actor(actorSeed);
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

    function extendLease(uint256 leaseSeed, uint64 epochs) external {
        if (leaseIds.length == 0) return;
        uint256 id = leaseIds[leaseSeed % leaseIds.length];
        Lease memory l = market.leaseOf(id);
        if (l.endEpoch == l.startEpoch || l.endEpoch <= registry.currentEpoch(assetId)) return;
        if (_terms().status != AssetStatus.Active) return;
        epochs = uint64(bound(epochs, 1, 4));
        address owner = market.ownerOf(id);
        vm.prank(owner);
        ghostIn += market.extendLease(id, epochs);
    }

    function transferLease(uint256 leaseSeed, uint256 toSeed) external {
        if (leaseIds.length == 0) return;
        uint256 id = leaseIds[leaseSeed % leaseIds.length];
        address owner = market.ownerOf(id);
        vm.prank(owner);
        market.transferFrom(owner, _actor(toSeed), id);
    }

    function transferShares(uint256 fromSeed, uint256 toSeed, uint256 amount) external {
        address from = holders[fromSeed % holders.length];
        address to = holders[toSeed % holders.length];
        amount = bound(amount, 0, shares.balanceOf(from));
        vm.prank(from);
        shares.transfer(to, amount);
    }

    function claimRefund(uint256 leaseSeed) external {
        if (leaseIds.length == 0) return;
        uint256 id = leaseIds[leaseSeed % leaseIds.length];
        (uint256 refund, uint256 credit) = market.refundable(id);
        if (refund + credit == 0) return;
        address owner = market.ownerOf(id);
        vm.prank(owner);
        market.claimRefund(id, owner);
        ghostOut += refund + credit;
    }

    function claimRevenue(uint256 holderSeed) external {
        address h = holders[holderSeed % holders.length];
        uint256 amount = shares.claimable(h);
        if (amount == 0) return;
        vm.prank(h);
        shares.claim(h);
        ghostOut += amount;
        ghostClaimed += amount;
    }

    function withdrawFees(bool treasury) external {
        address who = treasury ? registry.protocolParams().treasury : _terms().operator;
        uint256 amount = market.feesOf(who) + (treasury ? market.protocolFees() : 0);
        if (amount == 0) return;
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
            if (mode >= 3) {
                address c = actors[0];
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
