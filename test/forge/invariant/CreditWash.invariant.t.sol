// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CreditFixture} from "../utils/CreditFixture.sol";
import {WashHandler} from "./WashHandler.sol";

/// @notice The wash-lease attack under any sequence: a 60 % holder of an idle asset, which is also its
///         lessee and a borrower, never ends up with more stablecoin than it put in (beyond the SLA
///         credits the operator's bond paid it), and the lenders lose nothing but recorded bad debt.
contract CreditWashInvariantTest is CreditFixture {
    WashHandler internal handler;

    function setUp() public override {
        super.setUp();
        runEpochs(SEASONED, 10_000); // idle, seasoned, priced at zero
        handler = new WashHandler(
            WashHandler.Deps({
                usdc: usdc,
                registry: registry,
                oracle: oracle,
                market: market,
                nav: nav,
                credit: credit,
                assetId: assetId,
                admin: admin,
                washer: investor,
                keys: [attestorKeys[0], attestorKeys[1], attestorKeys[2]]
            })
        );
        targetContract(address(handler));
    }

    function invariant_washNeverPays() public view {
        assertLe(usdc.balanceOf(investor), handler.start() + handler.credits(), "the washer has more than it put in");
    }

    function invariant_lendersLoseOnlyBadDebt() public view {
        assertGe(credit.totalAssets() + credit.badDebt(), SUPPLY, "lenders lost more than the recorded bad debt");
    }
}
