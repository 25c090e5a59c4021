// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IStablecoinGuard} from "./IStablecoinGuard.sol";

/// @notice Risk parameters of one collateral, fixed when it is listed (bps). Valid: 0 < LTV < threshold,
///         0 < bonus <= 2,000, threshold x (1 + bonus) < 100 %, close factor 1,000 to 10,000.
/// @param ltvBps a borrow may take the debt up to this share of the collateral's value
/// @param liquidationThresholdBps below this share (health factor < 1) anyone may liquidate
/// @param liquidationBonusBps the liquidator receives collateral worth repaid x (1 + bonus)
/// @param closeFactorBps share of the debt one liquidation may repay (all of it once insolvent)
struct CollateralParams {
    uint16 ltvBps;
    uint16 liquidationThresholdBps;
    uint16 liquidationBonusBps;
    uint16 closeFactorBps;
}

/// @notice The pool's interest rate curve, per year in bps, kinked like a lending rate model. Valid: a kink of
///         1 to 9,999 bps, and base + slope1 + slope2 at most 1,000,000 bps (10,000 % a year).
/// @param baseBps rate at zero utilization
/// @param kinkBps utilization where the steep slope starts
/// @param slope1Bps added across [0, kink]
/// @param slope2Bps added across [kink, 100 %]
struct RateCurve {
    uint16 baseBps;
    uint16 kinkBps;
    uint32 slope1Bps;
    uint32 slope2Bps;
}

/// @notice Per-collateral limits set by governance (the lister), changeable after listing: the most debt
///         the collateral may back and the most collateral the market takes (base units). Zero freezes.
/// @param borrowCap the most debt, stablecoin base units (interest included), the collateral may back: in the
///        CreditMarket the asset's positions' debt, in the BtcCreditMarket the whole pool's
/// @param supplyCap the most collateral the market holds, in the collateral's base units
struct Caps {
    uint128 borrowCap;
    uint128 supplyCap;
}

/// @title LendingPool
/// @notice The lenders' side shared by Wellhead's credit markets: an ERC-4626 vault over the stablecoin
///         whose assets are the idle stablecoin plus the borrowers' debt. Interest accrues per second on
///         a utilization curve; debt is held as shares (rounded against the borrower); debt left without
///         collateral is written off against the vault and recorded in `badDebt`.
///
///         The vault's share price moves only by interest and by written-off bad debt: its assets are
///         counted in its own books, never from a token balance, so a donation changes nothing, and the
///         first deposit mints shares against 1e6 virtual shares per unit (it cannot mint zero; a deposit
///         that would is refused).
///
///         Liquidation grace: while the stablecoin is paused nobody can repay. Anyone may record a pause
///         it observes (`recordStablecoinPause`); liquidations then wait `LIQUIDATION_GRACE` after the
///         last recorded pause, so a borrower who could not repay gets a fair chance once it ends.
interface ILendingPool is IStablecoinGuard {
    /// @notice Raised when a collateral deposit or withdrawal, a borrow, a repayment or a liquidation asks for
    ///         zero, and (CreditMarket) when stray revenue is swept while there is none.
    error CreditZeroAmount();
    /// @notice Raised when collateral is listed (CreditMarket) or the market deployed (BtcCreditMarket) with
    ///         risk parameters outside the bounds of {CollateralParams}.
    /// @param params the parameters given
    error CreditInvalidCollateralParams(CollateralParams params);
    /// @notice Raised when a borrow, or a withdrawal of collateral from a position with debt, would leave the
    ///         debt above the collateral's value x LTV.
    /// @param debt the position's debt after the action, stablecoin base units
    /// @param maxDebt the most debt the collateral left backs at the LTV, stablecoin base units
    error CreditExceedsLtv(uint256 debt, uint256 maxDebt);
    /// @notice Raised when a borrower withdraws more collateral than its position holds.
    /// @param requested the collateral asked for, in its base units
    /// @param available the collateral in the position, in its base units
    error CreditInsufficientCollateral(uint256 requested, uint256 available);
    /// @notice Raised at deployment for a rate curve outside the bounds of {RateCurve}.
    /// @param curve the curve given
    error CreditInvalidRateCurve(RateCurve curve);
    /// @notice Raised when a borrow would leave the position's debt below the market's minimum debt, or a
    ///         partial repayment would leave a debt that is not zero but below it.
    /// @param debt the debt the position would have, stablecoin base units
    /// @param minDebt the market's minimum debt, stablecoin base units
    error CreditDebtBelowMinimum(uint256 debt, uint256 minDebt);
    /// @notice Raised when a borrow or a lender's withdrawal asks for more than the pool's idle stablecoin (a
    ///         vault withdrawal or redemption past it is refused first by ERC-4626's own maximum checks).
    /// @param requested the amount asked for, stablecoin base units
    /// @param available the idle stablecoin (not lent out), stablecoin base units
    error CreditInsufficientLiquidity(uint256 requested, uint256 available);
    /// @notice Raised when a repayment is above the position's debt, or when the position has no debt to repay.
    /// @param amount the repayment asked for, stablecoin base units (zero when `type(uint256).max` met no debt)
    /// @param debt the position's debt, stablecoin base units
    error CreditRepayExceedsDebt(uint256 amount, uint256 debt);
    /// @notice Raised when a borrow would take the debt the cap covers above the borrow cap.
    /// @param debt that debt after the borrow (CreditMarket: the asset's positions; BtcCreditMarket: the pool),
    ///        stablecoin base units
    /// @param borrowCap the borrow cap, stablecoin base units
    error CreditBorrowCapExceeded(uint256 debt, uint256 borrowCap);
    /// @notice Raised when a collateral deposit would take the market's collateral above the supply cap.
    /// @param collateral the collateral the market would hold, in its base units
    /// @param supplyCap the supply cap, in the collateral's base units
    error CreditSupplyCapExceeded(uint256 collateral, uint256 supplyCap);
    /// @notice A deposit too small to mint one vault share.
    /// @param assets the deposit, stablecoin base units
    error CreditZeroShares(uint256 assets);
    /// @notice Liquidations resume at `until` (a grace period after a stablecoin pause or a price outage).
    ///         Raised by a liquidation before then: after a recorded stablecoin pause, after the NavOracle
    ///         recovered from staleness (CreditMarket), or after the sequencer came back or a recorded price
    ///         outage (BtcCreditMarket).
    /// @param until the unix time (seconds) from which liquidations may go on
    error CreditLiquidationGrace(uint256 until);
    /// @notice The stablecoin does not report itself paused (or cannot be asked). Raised by
    ///         {recordStablecoinPause}.
    error CreditStablecoinNotPaused();

    /// @notice Emitted when interest accrues: the first time in a block that a vault deposit or withdrawal or a
    ///         borrower's action accrues it while there is debt.
    /// @param interest the interest added to the debt, stablecoin base units (rounded down)
    /// @param totalBorrowed the borrowers' total debt after it, stablecoin base units
    /// @param ratePerSecondWad the borrow rate it accrued at, per second, wad (1e18 = 100 %)
    event InterestAccrued(uint256 interest, uint256 totalBorrowed, uint256 ratePerSecondWad);
    /// @notice Emitted when anyone records that the stablecoin is paused.
    /// @param at the unix time (seconds) it was recorded
    /// @param liquidationsResumeAfter the unix time from which liquidations may go on (`at` + LIQUIDATION_GRACE)
    event StablecoinPauseRecorded(uint256 at, uint256 liquidationsResumeAfter);

    /// @notice Records that the stablecoin is paused now; liquidations wait the grace period after it.
    function recordStablecoinPause() external;

    /// @notice Until when liquidations wait after the last recorded stablecoin pause (0: never paused).
    function stablecoinGraceUntil() external view returns (uint256);

    /// @notice The borrowers' total debt now, interest included, stablecoin base units.
    function totalBorrowed() external view returns (uint256);
    /// @notice The stablecoin the pool holds for its lenders, not lent out (what they can withdraw).
    function idle() external view returns (uint256);
    /// @notice Debt written off against the lenders so far, stablecoin base units.
    function badDebt() external view returns (uint256);
    /// @notice Borrowed / (borrowed + idle) at the last accrual, bps.
    function utilizationBps() external view returns (uint256);
    /// @notice The borrow rate at the current utilization, per second, wad.
    function borrowRatePerSecond() external view returns (uint256 wad);
    /// @notice The least debt a position may have, other than none, stablecoin base units.
    function minDebt() external view returns (uint256);
}
