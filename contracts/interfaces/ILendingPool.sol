// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IStablecoinGuard} from "./IStablecoinGuard.sol";

/// @notice Risk parameters of one collateral, fixed when it is listed (bps).
struct CollateralParams {
    uint16 ltvBps; // a borrow may take the debt up to this share of the collateral's value
    uint16 liquidationThresholdBps; // below this share (health factor < 1) anyone may liquidate
    uint16 liquidationBonusBps; // the liquidator receives collateral worth repaid x (1 + bonus)
    uint16 closeFactorBps; // share of the debt one liquidation may repay (all of it once insolvent)
}

/// @notice The pool's interest rate curve, per year in bps, kinked like a lending rate model.
struct RateCurve {
    uint16 baseBps; // rate at zero utilization
    uint16 kinkBps; // utilization where the steep slope starts
    uint32 slope1Bps; // added across [0, kink]
    uint32 slope2Bps; // added across [kink, 100 %]
}

/// @notice Per-collateral limits set by governance (the lister), changeable after listing: the most debt
///         the collateral may back and the most collateral the market takes (base units). Zero freezes.
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
    error CreditZeroAmount();
    error CreditInvalidCollateralParams(CollateralParams params);
    error CreditExceedsLtv(uint256 debt, uint256 maxDebt);
    error CreditInsufficientCollateral(uint256 requested, uint256 available);
    error CreditInvalidRateCurve(RateCurve curve);
    error CreditDebtBelowMinimum(uint256 debt, uint256 minDebt);
    error CreditInsufficientLiquidity(uint256 requested, uint256 available);
    error CreditRepayExceedsDebt(uint256 amount, uint256 debt);
    error CreditBorrowCapExceeded(uint256 debt, uint256 borrowCap);
    error CreditSupplyCapExceeded(uint256 collateral, uint256 supplyCap);
    /// @notice A deposit too small to mint one vault share.
    error CreditZeroShares(uint256 assets);
    /// @notice Liquidations resume at `until` (a grace period after a stablecoin pause or a price outage).
    error CreditLiquidationGrace(uint256 until);
    /// @notice The stablecoin does not report itself paused (or cannot be asked).
    error CreditStablecoinNotPaused();

    event InterestAccrued(uint256 interest, uint256 totalBorrowed, uint256 ratePerSecondWad);
    event StablecoinPauseRecorded(uint256 at, uint256 liquidationsResumeAfter);

    /// @notice Records that the stablecoin is paused now; liquidations wait the grace period after it.
    function recordStablecoinPause() external;

    /// @notice Until when liquidations wait after the last recorded stablecoin pause (0: never paused).
    function stablecoinGraceUntil() external view returns (uint256);

    function totalBorrowed() external view returns (uint256);
    function idle() external view returns (uint256);
    function badDebt() external view returns (uint256);
    function utilizationBps() external view returns (uint256);
    function borrowRatePerSecond() external view returns (uint256 wad);
    function minDebt() external view returns (uint256);
}
