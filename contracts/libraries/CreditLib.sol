// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {CollateralParams} from "../interfaces/ILendingPool.sol";
import {Constants} from "./Constants.sol";

/// @title CreditLib
/// @notice The pure arithmetic of a credit position: collateral value, health, and what one liquidation
///         repays and seizes. Prices are stablecoin base units per `unit` of collateral (a whole share,
///         1e18 units; a whole bitcoin, 1e8 satoshi). Every value rounds down (against the borrower) and
///         every repayment the liquidator owes rounds up.
library CreditLib {
    uint256 internal constant BPS = Constants.BPS;
    uint256 internal constant WAD = Constants.WAD;
    uint16 internal constant MAX_BONUS_BPS = 2_000;
    uint16 internal constant MIN_CLOSE_FACTOR_BPS = 1_000;

    /// @notice 0 < LTV < threshold; 0 < bonus <= 20 %; a liquidation at the threshold must leave the
    ///         position healthier: threshold x (1 + bonus) < 1; close factor between 10 % and 100 %.
    function isValid(CollateralParams memory p) internal pure returns (bool) {
        return p.ltvBps != 0 && p.ltvBps < p.liquidationThresholdBps && p.liquidationBonusBps != 0
            && p.liquidationBonusBps <= MAX_BONUS_BPS
            && uint256(p.liquidationThresholdBps) * (BPS + p.liquidationBonusBps) < BPS * BPS
            && p.closeFactorBps >= MIN_CLOSE_FACTOR_BPS && p.closeFactorBps <= BPS;
    }

    /// @notice The value of `collateral` at `price` per `unit`, rounded down.
    function valueOf(uint256 collateral, uint256 price, uint256 unit) internal pure returns (uint256) {
        return Math.mulDiv(collateral, price, unit);
    }

    /// @notice The most debt `value` of collateral backs at the LTV, rounded down.
    function maxDebt(uint256 value, uint16 ltvBps) internal pure returns (uint256) {
        return value * ltvBps / BPS;
    }

    /// @notice Value x threshold / debt, 1e18 = 1; max uint256 without debt.
    function health(uint256 value, uint16 thresholdBps, uint256 debt) internal pure returns (uint256) {
        if (debt == 0) return type(uint256).max;
        return Math.mulDiv(value * thresholdBps, WAD, debt * BPS);
    }

    /// @notice Liquidatable when debt x BPS > value x threshold (health strictly below 1).
    function isLiquidatable(uint256 debt, uint256 value, uint16 thresholdBps) internal pure returns (bool) {
        return debt != 0 && debt * BPS > value * thresholdBps;
    }

    /// @notice What one liquidation of a position (debt, collateral) at `price` per `unit` repays and seizes
    ///         for a requested `repayAmount`: at most the close factor's share of the debt (all of it once the
    ///         collateral no longer covers debt plus bonus), collateral worth the repayment x (1 + bonus),
    ///         rounded down; when that is all the collateral, the repayment is what all of it is worth at
    ///         the discount, rounded up. At a zero price all collateral goes for nothing (Morpho Blue's
    ///         rule) and the debt left is bad debt.
    function liquidation(
        uint256 debt,
        uint256 collateral,
        uint256 price,
        uint256 unit,
        CollateralParams memory p,
        uint256 repayAmount
    ) internal pure returns (uint256 repaid, uint256 seized) {
        uint256 value = valueOf(collateral, price, unit);
        // Clamped rather than refused: a borrower repaying a little just before cannot make it revert.
        repaid = Math.min(repayAmount, maxRepay(debt, value, p));
        seized = price == 0 ? collateral : Math.mulDiv(repaid * (BPS + p.liquidationBonusBps), unit, price * BPS);
        if (seized >= collateral) {
            seized = collateral;
            repaid = Math.min(
                repaid, Math.mulDiv(collateral * price, BPS, unit * (BPS + p.liquidationBonusBps), Math.Rounding.Ceil)
            );
        }
    }

    /// @notice Once the collateral no longer covers the debt plus the bonus, the whole debt may be repaid;
    ///         before, the close factor's share of it, rounded up.
    function maxRepay(uint256 debt, uint256 value, CollateralParams memory p) internal pure returns (uint256) {
        if (value * BPS < debt * (BPS + p.liquidationBonusBps)) return debt;
        return Math.mulDiv(debt, p.closeFactorBps, BPS, Math.Rounding.Ceil);
    }
}
