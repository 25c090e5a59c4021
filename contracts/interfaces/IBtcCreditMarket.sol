// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Caps, CollateralParams, ILendingPool} from "./ILendingPool.sol";

/// @notice One borrower's position in the BTC market. One storage slot.
/// @param collateral wrapped BTC in its base units (satoshi for an 8-decimal token)
/// @param borrowShares the position's part of the pool's debt (debt shares, not stablecoin)
struct BtcPosition {
    uint128 collateral;
    uint128 borrowShares;
}

/// @title BtcCreditMarket
/// @notice Lends the stablecoin against wrapped bitcoin (WBTC, cbBTC, tBTC: any ERC-20 of up to 18
///         decimals): the loop this protocol exists for, former bitcoin miners financing GPUs with the
///         bitcoin they hold. An isolated market (Morpho Blue's design): its own lenders, one collateral,
///         one price feed, risk parameters fixed at deployment and caps governance may change. Capacity
///         shares are lent against in {ICreditMarket}; a borrower holding both opens a position in each.
///         Isolation keeps a failure of one collateral's price (a washed NAV, a stale BTC feed) from
///         reaching the other's lenders.
///
///         Price: a Chainlink `AggregatorV3Interface` BTC/USD feed, read as the stablecoin's value (the
///         stablecoin is taken at par with USD). A borrow, a withdrawal with debt and a liquidation each
///         need a positive answer updated within `heartbeat` seconds; a stale or non-positive price
///         refuses all three (a stale price is wrong both ways). On an L2, a Chainlink sequencer-uptime
///         feed gates them too, as Aave's PriceOracleSentinel does: nothing while the sequencer is
///         down, and neither borrows, withdrawals with debt nor liquidations until `LIQUIDATION_GRACE` after it
///         came back.
///         Anyone may record a price outage it observes (`recordPriceOutage`); liquidations then wait as
///         long as the outage had lasted, up to `LIQUIDATION_GRACE`, like after a recorded stablecoin pause.
interface IBtcCreditMarket is ILendingPool {
    /// @notice Raised by a borrow, a withdrawal of collateral with debt or a liquidation when the price feed's
    ///         latest answer is zero or negative.
    /// @param answer the feed's answer
    error CreditInvalidPrice(int256 answer);
    /// @notice Raised by a borrow, a withdrawal of collateral with debt or a liquidation when the price feed's
    ///         latest answer was updated more than `heartbeat` seconds ago.
    /// @param updatedAt when the answer was updated (unix seconds)
    /// @param heartbeat seconds an answer stays usable
    error CreditPriceStale(uint256 updatedAt, uint256 heartbeat);
    /// @notice Raised by {recordPriceOutage} when there is no outage to record: the answer is positive and was
    ///         updated within the heartbeat (or, non-positive, was updated in this very second).
    /// @param updatedAt when the answer was updated (unix seconds)
    /// @param heartbeat seconds an answer stays usable
    error CreditPriceFresh(uint256 updatedAt, uint256 heartbeat);
    /// @notice Raised by a borrow, a withdrawal of collateral with debt or a liquidation while the L2
    ///         sequencer-uptime feed reports the sequencer down.
    error CreditSequencerDown();
    /// @notice The sequencer came back less than the grace period ago; actions resume at `until`. Raised by a
    ///         borrow or a withdrawal of collateral with debt (a liquidation raises CreditLiquidationGrace).
    /// @param until the unix time (seconds) from which they may go on
    error CreditSequencerGrace(uint256 until);
    /// @notice Raised at deployment when the heartbeat is outside 1 minute to 2 days or the price feed has more
    ///         than 18 decimals.
    /// @param feed the price feed given
    error CreditInvalidFeed(address feed);
    /// @notice Raised at deployment when the collateral token has more than 18 decimals.
    /// @param token the collateral token given
    error CreditInvalidCollateralToken(address token);
    /// @notice Raised when a liquidation targets a position that is not liquidatable: no debt, or debt within
    ///         collateral value x liquidation threshold (health factor 1 or more).
    /// @param borrower the position's borrower
    /// @param healthFactor its health factor, wad (1e18 = 1; max uint256 without debt)
    error CreditPositionHealthy(address borrower, uint256 healthFactor);

    /// @notice Emitted when the caps are set: at deployment and by the lister.
    /// @param caps the new caps (debt of the whole pool; collateral in wrapped BTC base units)
    event CapsSet(Caps caps);
    /// @notice Emitted when anyone records a price outage (a stale or non-positive answer). The grace it grants
    ///         lasts as long as the outage has so far, up to LIQUIDATION_GRACE; a longer grace already granted
    ///         stays in force ({priceOutageGraceUntil}), even though this event then reports the shorter one.
    /// @param at the unix time (seconds) it was recorded
    /// @param liquidationsResumeAfter the end of the grace this record grants (unix seconds)
    event PriceOutageRecorded(uint256 at, uint256 liquidationsResumeAfter);
    /// @notice Emitted when wrapped BTC is deposited into a position.
    /// @param borrower the position credited
    /// @param from who paid it (the caller)
    /// @param amount wrapped BTC, in its base units
    event CollateralSupplied(address indexed borrower, address indexed from, uint256 amount);
    /// @notice Emitted when a borrower withdraws wrapped BTC from its position.
    /// @param borrower the position's borrower (the caller)
    /// @param to the address paid
    /// @param amount wrapped BTC, in its base units
    event CollateralWithdrawn(address indexed borrower, address indexed to, uint256 amount);
    /// @notice Emitted when a borrower borrows against its position.
    /// @param borrower the position's borrower (the caller)
    /// @param to the address paid
    /// @param amount the stablecoin lent, base units
    /// @param borrowShares debt shares added to the position (rounded up)
    event Borrowed(address indexed borrower, address indexed to, uint256 amount, uint256 borrowShares);
    /// @notice Emitted when debt is repaid.
    /// @param borrower the position whose debt was repaid
    /// @param payer who paid (the caller)
    /// @param amount the stablecoin repaid, base units
    /// @param borrowShares debt shares burned from the position
    event Repaid(address indexed borrower, address indexed payer, uint256 amount, uint256 borrowShares);
    /// @notice Emitted when a position is liquidated.
    /// @param borrower the liquidated position's borrower
    /// @param liquidator who repaid (the caller)
    /// @param repaid the debt repaid by the liquidator, stablecoin base units
    /// @param seized wrapped BTC sent to the liquidator's `to`, in its base units
    /// @param price stablecoin base units per whole bitcoin
    /// @param badDebt debt written off against the lenders because no collateral was left, stablecoin base units
    event Liquidated(
        address indexed borrower,
        address indexed liquidator,
        uint256 repaid,
        uint256 seized,
        uint256 price,
        uint256 badDebt
    );

    /// @notice Deposits `amount` of wrapped BTC from the caller into `borrower`'s position.
    function supplyCollateral(uint256 amount, address borrower) external;

    /// @notice Withdraws the caller's collateral to `to`; with debt, the position must stay within LTV
    ///         at a fresh price.
    function withdrawCollateral(uint256 amount, address to) external;

    /// @notice Borrows `amount` against the caller's position, sent to `to`.
    function borrow(uint256 amount, address to) external returns (uint256 borrowShares);

    /// @notice Repays up to `amount` of `borrower`'s debt from the caller; `type(uint256).max` repays all.
    function repay(uint256 amount, address borrower) external returns (uint256 repaid);

    /// @notice Repays part of an unhealthy position's debt (the close factor's share; all of it once the
    ///         collateral no longer covers debt plus bonus) for collateral worth repaid x (1 + bonus).
    function liquidate(address borrower, uint256 repayAmount, address to) external returns (uint256 seized);

    /// @notice Records that the price feed is stale (or non-positive) now; liquidations wait as long as it has
    ///         been so, up to the grace period.
    function recordPriceOutage() external;

    /// @notice Sets the caps (the lister).
    function setCaps(Caps calldata caps) external;

    // ---------------------------------------------------------------- views
    /// @notice Stablecoin base units per whole bitcoin at the feed's latest answer, and whether that
    ///         answer is usable (positive and within the heartbeat).
    function price() external view returns (uint256 pricePerBtc, bool usable);
    /// @notice The borrower's position.
    function positionOf(address borrower) external view returns (BtcPosition memory);
    /// @notice The borrower's debt now, interest included (rounded up), stablecoin base units.
    function debtOf(address borrower) external view returns (uint256);
    /// @notice Collateral value x liquidation threshold / debt, 1e18 = 1; max uint256 without debt.
    function healthFactor(address borrower) external view returns (uint256);
    /// @notice What the position could still borrow now (zero on an unusable price).
    function borrowCapacity(address borrower) external view returns (uint256);
    /// @notice The risk parameters, fixed at deployment.
    function collateralParams() external view returns (CollateralParams memory);
    /// @notice The caps in force.
    function capsOf() external view returns (Caps memory);
    /// @notice Wrapped BTC held in all positions, in its base units.
    function totalCollateral() external view returns (uint256);
    /// @notice The wrapped BTC token.
    function collateralToken() external view returns (address);
    /// @notice The Chainlink BTC/USD feed.
    function priceFeed() external view returns (address);
    /// @notice The Chainlink L2 sequencer-uptime feed; zero on L1.
    function sequencerFeed() external view returns (address);
    /// @notice Seconds a price answer stays usable.
    function heartbeat() external view returns (uint256);
    /// @notice Until when liquidations wait after the recorded price outages (unix seconds; 0: none recorded).
    function priceOutageGraceUntil() external view returns (uint256);
}
