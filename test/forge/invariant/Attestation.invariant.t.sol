// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AssetParams} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {Lease, LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {StoredReport} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Fixture} from "../utils/Fixture.sol";
import {AttestationHandler} from "./AttestationHandler.sol";

/// @notice The attestation layer against malicious attestors within the fault bound (f = 1 of n = 4), a
///         submitter that chooses any subset and order, and challengers including the operator and the liars.
contract AttestationInvariantTest is Fixture {
    AttestationHandler internal handler;
    uint256 internal asset;

    function setUp() public override {
        super.setUp();
        AssetParams memory p = defaultAsset();
        p.curtailmentCapHours = 720; // no cap credits: lessees' bounds follow the reports alone
        vm.prank(operator);
        asset = registry.registerAsset(p);
        stakeAll(asset);
        uint256[] memory leases = new uint256[](2);
        vm.startPrank(lessee);
        leases[0] = market.openLease(asset, 4, 400, LeaseClass.Firm, type(uint256).max);
        leases[1] = market.openLease(asset, 4, 400, LeaseClass.Interruptible, type(uint256).max);
        vm.stopPrank();
        handler = new AttestationHandler(
            usdc,
            registry,
            oracle,
            market,
            asset,
            admin,
            [attestorKeys[0], attestorKeys[1], attestorKeys[2], attestorKeys[3]],
            leases
        );
        targetContract(address(handler));
    }

    /// @notice Every accepted value lies within [min, max] of the honest observations of its epoch.
    function invariant_acceptedWithinHonestRange() public view {
        for (uint64 e; e < handler.nextEpoch(); ++e) {
            (bool reported, uint16 uMin, uint16 uMax, uint16 cMin, uint16 cMax,,,) = handler.honest(e);
            if (!reported) continue;
            StoredReport memory s = oracle.reportOf(asset, e);
            assertGe(s.uptimeBps, uMin, "uptime >= honest min");
            assertLe(s.uptimeBps, uMax, "uptime <= honest max");
            assertGe(s.curtailedBps, cMin, "curtailed >= honest min");
            assertLe(s.curtailedBps, cMax, "curtailed <= honest max");
        }
    }

    /// @notice No lessee is charged more than the honest maximum of delivery implies (rounded up by one unit),
    ///         nor refunded or credited more than the honest minimum implies.
    function invariant_lesseesWithinHonestBounds() public view {
        uint64 next = market.ledgerOf(asset).nextEpochToFinalize;
        for (uint256 i; i < handler.leaseCount(); ++i) {
            uint256 id = handler.leaseIds(i);
            Lease memory l = market.leaseOf(id);
            uint64 stop = next < l.endEpoch ? next : l.endEpoch;
            if (stop <= l.startEpoch) continue;
            (uint256 most, uint256 least, uint256 creditMost) = _bounds(l, stop);
            (uint256 refund, uint256 credit) = market.refundable(id);
            uint256 charged = uint256(l.ratePerEpoch) * (stop - l.startEpoch) - refund - l.refundPaid;
            assertLe(charged * 1e8, most + 1e8 - 1, "charged at most the honest maximum, rounded up");
            assertGe(charged * 1e8, least, "refunded at most what the honest minimum implies");
            assertLe((credit + l.creditPaid) * 1e8, creditMost, "credited at most what the honest minimum implies");
        }
    }

    /// @dev Sums over the lease's settled epochs of rate x fraction (scale 1e8) at the honest extremes.
    function _bounds(Lease memory l, uint64 stop) internal view returns (uint256 most, uint256 least, uint256 credit) {
        uint256 sla = registry.terms(asset).slaTargetBps;
        for (uint64 e = l.startEpoch; e < stop; ++e) {
            (bool reported, uint16 uMin, uint16 uMax, uint16 cMin, uint16 cMax,,,) = handler.honest(e);
            if (!reported) {
                if (l.class == LeaseClass.Firm) credit += uint256(l.ratePerEpoch) * sla * 1e4;
                continue;
            }
            if (l.class == LeaseClass.Firm) {
                most += uint256(l.ratePerEpoch) * uMax * 1e4;
                least += uint256(l.ratePerEpoch) * uMin * 1e4;
                if (uMin < sla) credit += uint256(l.ratePerEpoch) * (sla - uMin) * 1e4;
            } else {
                most += uint256(l.ratePerEpoch) * uMax * (1e4 - cMin);
                least += uint256(l.ratePerEpoch) * uMin * (1e4 - cMax);
            }
        }
    }

    /// @notice A party at fault never collects a challenger's or a prover's reward.
    function invariant_noPartyAtFaultProfits() public view {
        assertFalse(handler.faultyProfited(), "a faulty party was paid");
    }

    /// @notice Forged observations (one liar's co-signature) and misordered observers never get through; fewer
    ///         than 2f + 1 observations never either; a valid report is never refused (liveness with one liar).
    function invariant_forgeriesRejected() public view {
        assertFalse(handler.forgeryAccepted(), "a forged or misordered report was accepted");
        assertFalse(handler.belowQuorumAccepted(), "a report below the quorum was accepted");
        assertFalse(handler.unexpectedRefusal(), "a valid report was refused");
    }

    /// @notice Every stablecoin unit the oracle holds is a stake, a credit someone can withdraw, or a bond of an
    ///         open dispute, and the flows in and out account for it to the unit.
    function invariant_oracleConservation() public view {
        uint256 balance = usdc.balanceOf(address(oracle));
        assertEq(balance, handler.ghostIn() - handler.ghostOut(), "balance == flows in - flows out");
        uint256 owed = handler.openBonds();
        for (uint256 i; i < 4; ++i) {
            (, uint256 s1) = oracle.attestorOf(asset, handler.attestors(i));
            (, uint256 s0) = oracle.attestorOf(assetId, handler.attestors(i));
            owed += s1 + s0 + oracle.creditOf(handler.attestors(i));
        }
        owed += oracle.creditOf(treasury) + oracle.creditOf(operator) + oracle.creditOf(handler.outsider());
        assertEq(balance, owed, "stakes + credits + open bonds");
    }
}
