// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Caps, CollateralParams, ILendingPool, RateCurve} from "./ILendingPool.sol";

/// @notice One borrower's position against one asset.
/// @dev Three storage slots.
struct Position {
    uint128 collateral; // capacity shares deposited (18 decimals)
    uint128 borrowShares; // the position's part of the pool's debt
    uint256 revenuePaid; // the asset's collateral revenue accumulator at the position's last settlement
    uint128 surplus; // collateral revenue left after the debt was repaid, the borrower's to claim
}

/// @title CreditMarket
/// @notice Lends the stablecoin against capacity shares. Lenders deposit into an ERC-4626 vault whose
///         assets are the idle stablecoin plus the borrowers' debt; borrowers deposit an asset's shares
///         and borrow up to its LTV, priced by the asset's NavOracle. Interest accrues per second on a
///         utilization curve. A position whose debt exceeds collateral value x liquidation threshold
///         (health factor below 1) may be liquidated by anyone, up to the close factor, for a bonus; debt
///         left without collateral is written off against the vault and recorded.
///         The revenue collateralised shares earn is claimed by the market and repays the borrower's
///         debt first; any surplus is the borrower's to claim. Revenue on shares the market holds
///         outside any position (a donation) is shared by the positions of that asset, or, when there
///         are none, kept as `strayRevenue` for the protocol treasury: it never reaches the lenders.
///
///         Pricing: loans use the feed's *lending price* (see {INavOracle}), never the NAV. A feed backs
///         borrowing only once seasoned (K full windows) and fresh; every borrow, withdrawal and
///         liquidation records the newest finalized round first. A listing requires LTV x M < K (the
///         feed's lending life M and track record K, in windows), so that whoever spends S on leases
///         of the asset raises what it can borrow against it by at most LTV x (M / K) x S < S. Per-asset
///         caps bound the debt an asset can back and the collateral the market takes.
///
///         Restricted (allowlisted) shares are refused as collateral: the operator controls the
///         allowlist and could stop the market from ever seizing them.
///
///         Liquidation at a zero price takes all the collateral for nothing and writes the debt off
///         (Morpho Blue's rule): the lenders, pro rata to their vault shares, take that loss at once,
///         recorded in `badDebt`. Liquidations wait a grace period after a stablecoin pause is recorded
///         and after the feed recovers from staleness.
/// @dev Each position is isolated: one borrower, one asset. Nothing loops over positions.
interface ICreditMarket is ILendingPool {
    /// @notice The asset's collateral revenue cannot be collected now (the LeaseMarket cannot pay: the token
    ///         is paused or the issuer froze it), so collateral cannot be deposited or withdrawn until it can:
    ///         otherwise collateral that did not earn it would share it. Loans go on meanwhile.
    error CreditRevenueUncollectable(uint256 assetId, uint256 pending);
    error CreditAssetNotListed(uint256 assetId);
    error CreditAlreadyListed(uint256 assetId);
    error CreditNoFeed(uint256 assetId);
    error CreditFeedStale(uint256 assetId, uint64 lastEpoch);
    error CreditAssetNotActive(uint256 assetId);
    error CreditPositionHealthy(uint256 assetId, address borrower, uint256 healthFactor);
    error CreditNothingToClaim(uint256 assetId, address borrower);
    /// @notice The feed has fewer than its K full windows of track record; `epoch` is its latest round.
    error CreditFeedYoung(uint256 assetId, uint64 epoch);
    /// @notice Restricted shares: the operator's allowlist could stop the market from seizing them.
    error CreditCollateralNotSeizable(uint256 assetId);
    /// @notice LTV x M must be below K x 10,000 (M, K: the feed's lending life and track record windows).
    error CreditLtvTooHighForFeed(uint16 ltvBps, uint16 lendingLifeWindows, uint16 trackRecordWindows);

    event CollateralListed(uint256 indexed assetId, address indexed feed, CollateralParams params);
    event CapsSet(uint256 indexed assetId, Caps caps);
    event StrayRevenueSwept(address indexed treasury, uint256 amount);
    event CollateralDeposited(uint256 indexed assetId, address indexed borrower, address indexed from, uint256 shares);
    event CollateralWithdrawn(uint256 indexed assetId, address indexed borrower, address indexed to, uint256 shares);
    event Borrowed(
        uint256 indexed assetId, address indexed borrower, address indexed to, uint256 amount, uint256 borrowShares
    );
    event Repaid(
        uint256 indexed assetId, address indexed borrower, address indexed payer, uint256 amount, uint256 borrowShares
    );
    /// @param earned collateral revenue credited to the position; `repaid` of it went to the debt
    event RevenueApplied(uint256 indexed assetId, address indexed borrower, uint256 earned, uint256 repaid);
    event RevenueCollected(uint256 indexed assetId, uint256 amount, uint256 revenuePerCollateral);
    event SurplusClaimed(uint256 indexed assetId, address indexed borrower, address indexed to, uint256 amount);
    event Liquidated(
        uint256 indexed assetId,
        address indexed borrower,
        address indexed liquidator,
        uint256 repaid,
        uint256 seized,
        uint256 pricePerShare,
        uint256 badDebt
    );

    /// @notice Lists an asset's shares as collateral with fixed risk parameters and initial caps; needs
    ///         its NavOracle, unrestricted shares, and LTV x M < K.
    function listCollateral(uint256 assetId, CollateralParams calldata params, Caps calldata caps) external;

    /// @notice Sets a listed asset's caps (the lister). Lowering them below use only stops new borrows
    ///         and deposits.
    function setCaps(uint256 assetId, Caps calldata caps) external;

    /// @notice Sends revenue of shares held outside any position to the protocol treasury (anyone may call).
    function sweepStrayRevenue() external returns (uint256 amount);

    /// @notice Deposits `shares` of the asset from the caller into `borrower`'s position.
    function depositCollateral(uint256 assetId, uint256 shares, address borrower) external;

    /// @notice Withdraws the caller's collateral to `to`; with debt, the position must stay within LTV.
    function withdrawCollateral(uint256 assetId, uint256 shares, address to) external;

    /// @notice Borrows `amount` of the stablecoin against the caller's position, sent to `to`.
    /// @return borrowShares minted for the position (rounded up)
    function borrow(uint256 assetId, uint256 amount, address to) external returns (uint256 borrowShares);

    /// @notice Repays up to `amount` of `borrower`'s debt from the caller; `type(uint256).max` repays all.
    /// @return repaid the amount pulled from the caller
    function repay(uint256 assetId, uint256 amount, address borrower) external returns (uint256 repaid);

    /// @notice Repays up to `repayAmount` of an unhealthy position's debt (at most the close factor's
    ///         share of it, all of it once the collateral no longer covers debt plus bonus;
    ///         `type(uint256).max` takes the most allowed) and takes collateral worth the repayment plus
    ///         the bonus at the NAV price. Collateral revenue owed to the position repays its debt first.
    /// @return seized capacity shares sent to `to`
    function liquidate(uint256 assetId, address borrower, uint256 repayAmount, address to)
        external
        returns (uint256 seized);

    /// @notice Applies the position's collateral revenue (anyone may call; the borrower gains).
    function settle(uint256 assetId, address borrower) external;

    /// @notice Sends the caller's revenue surplus (what was left after its debt) to `to`.
    function claimSurplus(uint256 assetId, address to) external returns (uint256 amount);

    // ---------------------------------------------------------------- views
    function positionOf(uint256 assetId, address borrower) external view returns (Position memory);
    /// @notice Debt now: interest included (rounded up), less the collateral revenue its next settlement
    ///         will apply. What a transaction in this block would find.
    function debtOf(uint256 assetId, address borrower) external view returns (uint256);
    /// @notice Collateral value x liquidation threshold / debt, 1e18 = 1; max uint256 without debt.
    function healthFactor(uint256 assetId, address borrower) external view returns (uint256);
    /// @notice What the position could still borrow at the latest price (zero when the feed is stale).
    function borrowCapacity(uint256 assetId, address borrower) external view returns (uint256);
    function collateralParams(uint256 assetId) external view returns (CollateralParams memory);
    function feedOf(uint256 assetId) external view returns (address);
    function capsOf(uint256 assetId) external view returns (Caps memory);
    /// @notice The debt the asset's positions owe now (interest included, rounded up).
    function assetDebt(uint256 assetId) external view returns (uint256);
    function strayRevenue() external view returns (uint256);
}
