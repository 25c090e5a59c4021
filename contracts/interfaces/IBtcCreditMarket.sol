// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Caps, CollateralParams, ILendingPool} from "./ILendingPool.sol";

/// @notice One borrower's position in the BTC market. One storage slot.
struct BtcPosition {
    uint128 collateral; // wrapped BTC in its base units (satoshi for an 8-decimal token)
    uint128 borrowShares; // the position's part of the pool's debt
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
///         down, and neither borrows nor liquidations until `LIQUIDATION_GRACE` after it came back.
///         Anyone may record a price outage it observes (`recordPriceOutage`); liquidations then wait as
///         long as the outage had lasted, up to `LIQUIDATION_GRACE`, like after a recorded stablecoin pause.
interface IBtcCreditMarket is ILendingPool {
    error CreditInvalidPrice(int256 answer);
    error CreditPriceStale(uint256 updatedAt, uint256 heartbeat);
    error CreditPriceFresh(uint256 updatedAt, uint256 heartbeat);
    error CreditSequencerDown();
    /// @notice The sequencer came back less than the grace period ago; actions resume at `until`.
    error CreditSequencerGrace(uint256 until);
    error CreditInvalidFeed(address feed);
    error CreditInvalidCollateralToken(address token);
    error CreditPositionHealthy(address borrower, uint256 healthFactor);

    event CapsSet(Caps caps);
    event PriceOutageRecorded(uint256 at, uint256 liquidationsResumeAfter);
    event CollateralSupplied(address indexed borrower, address indexed from, uint256 amount);
    event CollateralWithdrawn(address indexed borrower, address indexed to, uint256 amount);
    event Borrowed(address indexed borrower, address indexed to, uint256 amount, uint256 borrowShares);
    event Repaid(address indexed borrower, address indexed payer, uint256 amount, uint256 borrowShares);
    /// @param price stablecoin base units per whole bitcoin
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
    function positionOf(address borrower) external view returns (BtcPosition memory);
    function debtOf(address borrower) external view returns (uint256);
    /// @notice Collateral value x liquidation threshold / debt, 1e18 = 1; max uint256 without debt.
    function healthFactor(address borrower) external view returns (uint256);
    /// @notice What the position could still borrow now (zero on an unusable price).
    function borrowCapacity(address borrower) external view returns (uint256);
    function collateralParams() external view returns (CollateralParams memory);
    function capsOf() external view returns (Caps memory);
    function totalCollateral() external view returns (uint256);
    function collateralToken() external view returns (address);
    function priceFeed() external view returns (address);
    function sequencerFeed() external view returns (address);
    function heartbeat() external view returns (uint256);
    function priceOutageGraceUntil() external view returns (uint256);
}
