// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Position} from "../../../contracts/interfaces/ICreditMarket.sol";
import {LeaseClass} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {CreditFixture} from "../utils/CreditFixture.sol";
import {CreditHandler} from "./CreditHandler.sol";

contract CreditInvariantTest is CreditFixture {
    CreditHandler internal handler;

    function setUp() public override {
        super.setUp();
        earn(10_000, SEASONED + NAV_WINDOW); // the asset is fully leased and the feed seasoned
        handler = new CreditHandler(
            CreditHandler.Deps({
                usdc: usdc,
                registry: registry,
                oracle: oracle,
                market: market,
                nav: nav,
                credit: credit,
                assetId: assetId,
                admin: admin,
                investor: investor,
                keys: [attestorKeys[0], attestorKeys[1], attestorKeys[2]]
            })
        );
        targetContract(address(handler));
    }

    /// @notice Total borrowed <= total supplied + accrued interest - bad debt (plus the rounding units
    ///         the vault kept), and the vault's assets are exactly that: nothing appears or vanishes.
    function invariant_borrowedWithinSupplied() public view {
        uint256 backing = SUPPLY + handler.supplied() - handler.withdrawn() + handler.interest() + handler.rounding()
            - credit.badDebt();
        assertLe(credit.totalBorrowed(), backing, "borrowed <= supplied + interest - bad debt");
        assertEq(credit.totalAssets(), backing, "vault assets == supplied + interest - bad debt");
    }

    /// @notice Every stablecoin unit the market holds is owed to someone: lenders (idle), borrowers
    ///         (surplus, and collected revenue not yet credited), or it was donated.
    function invariant_everyUnitOwed() public view {
        uint256 surplus;
        uint256 pending;
        uint256 perCollateral = credit.collateralRevenue(assetId).perCollateral;
        uint256 collateral;
        for (uint256 i; i < handler.borrowerCount(); ++i) {
            Position memory p = credit.positionOf(assetId, handler.borrowerAt(i));
            surplus += p.surplus;
            pending += uint256(p.collateral) * (perCollateral - p.revenuePaid) / 1e36;
            collateral += p.collateral;
        }
        uint256 unallocated = credit.collateralRevenue(assetId).unallocated;
        assertEq(
            usdc.balanceOf(address(credit)),
            credit.idle() + surplus + unallocated + handler.donated(),
            "balance == idle + surplus + uncredited revenue + donations"
        );
        assertGe(unallocated, pending, "uncredited revenue covers what positions are owed");
        // each collection and each crediting rounds down by less than a unit
        assertLe(unallocated - pending, 2 * handler.calls() + 1, "only rounding dust is left over");
        assertEq(collateral, credit.collateralRevenue(assetId).totalCollateral, "collateral total");
        assertEq(shares.balanceOf(address(credit)), collateral, "every share held is someone's collateral");
    }

    /// @notice No borrow left a debt above LTV x the collateral's value at the lending price it used.
    function invariant_debtWithinLtvAtBorrow() public view {
        assertFalse(handler.overBorrowed(), "a borrow went above LTV");
    }

    /// @notice No healthy position was liquidated, and no liquidation took more than repaid x (1 + bonus).
    function invariant_liquidationsFair() public view {
        assertFalse(handler.healthyLiquidated(), "a healthy position was liquidated");
        assertFalse(handler.overSeized(), "a liquidation took more than repaid x (1 + bonus)");
        assertFalse(handler.liquidatedInGrace(), "a liquidation inside the grace after a stablecoin pause");
    }

    /// @notice The NAV moved only when a newer finalized epoch was recorded.
    function invariant_priceMovesOnlyWithEpochs() public view {
        assertFalse(handler.priceMovedWithoutEpoch(), "the price moved without a new epoch");
        (, uint64 epoch,,) = nav.lendingPrice();
        assertLt(epoch, market.ledgerOf(assetId).nextEpochToFinalize, "rounds value finalized epochs only");
    }
}
