// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EpochIndex, Lease, LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {Fixture} from "../utils/Fixture.sol";
import {ProtocolHandler} from "./ProtocolHandler.sol";

contract ProtocolInvariantTest is Fixture {
    ProtocolHandler internal handler;

    function setUp() public override {
        super.setUp();
        address[] memory initial = new address[](2);
        initial[0] = investor;
        initial[1] = operator;
        handler = new ProtocolHandler(
            usdc, registry, oracle, market, assetId, admin, [attestorKeys[0], attestorKeys[1], attestorKeys[2]], initial
        );
        targetContract(address(handler));
    }

    /// @notice Every stablecoin unit the market holds is accounted for by the flows in and out of it, and
    ///         covers everything it owes: lessees' unsettled escrow, refunds and credits, fees, holders.
    function invariant_conservation() public view {
        uint256 held = usdc.balanceOf(address(market));
        assertEq(held, market.owed(), "held == owed: nothing to sweep, nothing missing");
        // the bond's credits stay in the registry until a lessee claims them
        uint256 balance = held + registry.slashedFor(address(market));
        assertEq(balance, handler.ghostIn() - handler.ghostOut(), "balance == flows in - flows out");
        uint256 owed = market.protocolFees() + market.feesOf(operator) + market.ledgerOf(assetId).holdersRevenue;
        uint64 next = market.ledgerOf(assetId).nextEpochToFinalize;
        for (uint256 i; i < handler.leaseCount(); ++i) {
            uint256 id = handler.leaseIds(i);
            Lease memory l = market.leaseOf(id);
            (uint256 refund, uint256 credit) = market.refundable(id);
            uint64 settledTo = next > l.startEpoch ? (next < l.endEpoch ? next : l.endEpoch) : l.startEpoch;
            owed += refund + credit + uint256(l.ratePerEpoch) * (l.endEpoch - settledTo);
        }
        assertGe(balance, owed, "solvent");
        // rounding dust: at most one unit per lease and two per settled epoch
        assertLe(balance - owed, handler.leaseCount() + 2 * uint256(next) + 1, "dust bounded");
    }

    /// @notice No account the issuer froze moved value out (a payout, a lease, shares): every attempt was
    ///         refused with StablecoinAccountFrozen. (Settlement under any freeze or pause is the handler's
    ///         `settleNextEpoch`, which must never revert: no party's settlement waits on another's freeze.)
    function invariant_frozenValueNeverLeaves() public view {
        assertEq(handler.ghostFrozenEscapes(), 0, "a frozen account moved value");
    }

    /// @notice A lessee is never charged for undelivered or unreported time (beyond one unit of rounding).
    function invariant_neverChargedForUndelivered() public view {
        uint64 next = market.ledgerOf(assetId).nextEpochToFinalize;
        for (uint256 i; i < handler.leaseCount(); ++i) {
            uint256 id = handler.leaseIds(i);
            Lease memory l = market.leaseOf(id);
            uint64 stop = next < l.endEpoch ? next : l.endEpoch;
            if (stop <= l.startEpoch) continue;
            uint256 exactCharge; // scaled by 1e8
            for (uint64 e = l.startEpoch; e < stop; ++e) {
                exactCharge += uint256(l.ratePerEpoch)
                * (l.class == LeaseClass.Firm ? handler.firmFraction(e) : handler.interruptibleFraction(e));
            }
            (uint256 refund,) = market.refundable(id);
            uint256 charged = uint256(l.ratePerEpoch) * (stop - l.startEpoch) + l.closedRefund - refund - l.refundPaid;
            assertLe(charged * 1e8, exactCharge + 1e8 - 1, "charged at most the delivered value, rounded up");
        }
    }

    /// @notice Holders can never claim more than was distributed to them, and the books show what was claimed.
    function invariant_holdersNeverOverpaid() public view {
        uint256 total = shares.totalClaimed();
        for (uint256 i; i < handler.holderCount(); ++i) {
            total += shares.claimable(handler.holders(i));
        }
        assertLe(total, shares.totalDistributed(), "claimable + claimed <= distributed");
        assertEq(shares.totalClaimed(), handler.ghostClaimed(), "claimed == the sum of the claims paid");
    }

    /// @notice Leased GPUs never exceed the asset's GPUs in any epoch.
    function invariant_neverOversold() public view {
        uint64 next = market.ledgerOf(assetId).nextEpochToFinalize;
        uint64 horizon = registry.currentEpoch(assetId) + 8;
        assertLe(market.ledgerOf(assetId).committedGpus, GPUS, "committed <= capacity");
        for (uint64 e = next; e <= horizon; ++e) {
            uint256 leased;
            for (uint256 i; i < handler.leaseCount(); ++i) {
                Lease memory l = market.leaseOf(handler.leaseIds(i));
                if (l.startEpoch <= e && e < l.endEpoch) leased += l.gpus;
            }
            assertLe(leased, GPUS, "leased <= gpuCount in every epoch");
        }
    }

    /// @notice A finalized epoch never changes.
    function invariant_finalizedEpochsImmutable() public view {
        uint64 n = handler.finalizedCount();
        for (uint64 e; e < n; ++e) {
            bytes32 h = handler.finalizedIndexHash(e);
            if (h == bytes32(0)) continue;
            assertEq(keccak256(abi.encode(market.epochIndexOf(assetId, e))), h, "index unchanged");
        }
    }
}
