// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Caps, CollateralParams, ILendingPool, RateCurve} from "./ILendingPool.sol";

/// @notice One borrower's position against one asset.
/// @dev Three storage slots.
/// @param collateral capacity shares deposited (18 decimals)
/// @param borrowShares the position's part of the pool's debt (debt shares, not stablecoin)
/// @param revenuePaid the asset's collateral revenue accumulator at the position's last settlement (scale 1e36
///        per collateral unit)
/// @param surplus collateral revenue left after the debt was repaid, the borrower's to claim (stablecoin base
///        units)
struct Position {
    uint128 collateral;
    uint128 borrowShares;
    uint256 revenuePaid;
    uint128 surplus;
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
    ///         otherwise collateral that did not earn it would share it. Loans go on meanwhile. Raised by a
    ///         collateral deposit or withdrawal when the claim of the asset's pending revenue fails.
    /// @param assetId the asset
    /// @param pending the revenue the asset's shares owe the market, stablecoin base units
    error CreditRevenueUncollectable(uint256 assetId, uint256 pending);
    /// @notice Raised by any action on an asset's positions or caps, and by its health views, when the asset
    ///         is not listed as collateral.
    /// @param assetId the asset
    error CreditAssetNotListed(uint256 assetId);
    /// @notice Raised when an asset already listed is listed again.
    /// @param assetId the asset
    error CreditAlreadyListed(uint256 assetId);
    /// @notice Raised when an asset is listed before its NavOracle exists.
    /// @param assetId the asset
    error CreditNoFeed(uint256 assetId);
    /// @notice Raised by a borrow, or a withdrawal of collateral from a position with debt, when the asset's
    ///         feed is stale even after recording its newest round.
    /// @param assetId the asset
    /// @param lastEpoch the epoch of the feed's latest round
    error CreditFeedStale(uint256 assetId, uint64 lastEpoch);
    /// @notice Raised by a borrow when the asset is not active (paused or retired in the registry).
    /// @param assetId the asset
    error CreditAssetNotActive(uint256 assetId);
    /// @notice Raised when a liquidation targets a position that is not liquidatable: no debt, or debt within
    ///         collateral value x liquidation threshold at the lending price (health factor 1 or more).
    /// @param assetId the asset
    /// @param borrower the position's borrower
    /// @param healthFactor its health factor, wad (1e18 = 1; max uint256 without debt)
    error CreditPositionHealthy(uint256 assetId, address borrower, uint256 healthFactor);
    /// @notice Raised when a borrower claims its surplus and has none.
    /// @param assetId the asset
    /// @param borrower the caller
    error CreditNothingToClaim(uint256 assetId, address borrower);
    /// @notice The feed has fewer than its K full windows of track record; `epoch` is its latest round. Raised
    ///         by a borrow, or a withdrawal of collateral from a position with debt.
    /// @param assetId the asset
    /// @param epoch the epoch of the feed's latest round
    error CreditFeedYoung(uint256 assetId, uint64 epoch);
    /// @notice Restricted shares: the operator's allowlist could stop the market from seizing them. Raised when
    ///         such an asset is listed.
    /// @param assetId the asset
    error CreditCollateralNotSeizable(uint256 assetId);
    /// @notice LTV x M must be below K x 10,000 (M, K: the feed's lending life and track record windows).
    ///         Raised when an asset is listed with an LTV its feed's parameters do not allow.
    /// @param ltvBps the LTV given, bps
    /// @param lendingLifeWindows M, the feed's lending life in windows
    /// @param trackRecordWindows K, the feed's track record in windows
    error CreditLtvTooHighForFeed(uint16 ltvBps, uint16 lendingLifeWindows, uint16 trackRecordWindows);

    /// @notice Emitted when the lister lists an asset's shares as collateral (followed by CapsSet).
    /// @param assetId the asset
    /// @param feed the asset's NavOracle, which prices the collateral
    /// @param params the risk parameters, fixed from now on
    event CollateralListed(uint256 indexed assetId, address indexed feed, CollateralParams params);
    /// @notice Emitted when an asset's caps are set: at listing and by the lister.
    /// @param assetId the asset
    /// @param caps the new caps (debt of the asset's positions; collateral in shares, 18 decimals)
    event CapsSet(uint256 indexed assetId, Caps caps);
    /// @notice Emitted when stray revenue (of shares held outside any position) is sent to the treasury.
    /// @param treasury the protocol treasury paid
    /// @param amount the revenue sent, stablecoin base units
    event StrayRevenueSwept(address indexed treasury, uint256 amount);
    /// @notice Emitted when capacity shares are deposited into a position.
    /// @param assetId the asset
    /// @param borrower the position credited
    /// @param from who paid them (the caller)
    /// @param shares capacity shares deposited (18 decimals)
    event CollateralDeposited(uint256 indexed assetId, address indexed borrower, address indexed from, uint256 shares);
    /// @notice Emitted when a borrower withdraws capacity shares from its position.
    /// @param assetId the asset
    /// @param borrower the position's borrower (the caller)
    /// @param to the address paid
    /// @param shares capacity shares withdrawn (18 decimals)
    event CollateralWithdrawn(uint256 indexed assetId, address indexed borrower, address indexed to, uint256 shares);
    /// @notice Emitted when a borrower borrows against its position.
    /// @param assetId the asset
    /// @param borrower the position's borrower (the caller)
    /// @param to the address paid
    /// @param amount the stablecoin lent, base units
    /// @param borrowShares debt shares added to the position (rounded up)
    event Borrowed(
        uint256 indexed assetId, address indexed borrower, address indexed to, uint256 amount, uint256 borrowShares
    );
    /// @notice Emitted when debt is repaid by a payer (revenue repaying debt emits RevenueApplied instead).
    /// @param assetId the asset
    /// @param borrower the position whose debt was repaid
    /// @param payer who paid (the caller)
    /// @param amount the stablecoin repaid, base units
    /// @param borrowShares debt shares burned from the position
    event Repaid(
        uint256 indexed assetId, address indexed borrower, address indexed payer, uint256 amount, uint256 borrowShares
    );
    /// @notice Emitted when a position's settlement credits it collateral revenue (any action on the position
    ///         settles it first): first to its debt, the rest to its surplus.
    /// @param assetId the asset
    /// @param borrower the position's borrower
    /// @param earned collateral revenue credited to the position; `repaid` of it went to the debt
    /// @param repaid the part of `earned` that repaid debt, stablecoin base units
    event RevenueApplied(uint256 indexed assetId, address indexed borrower, uint256 earned, uint256 repaid);
    /// @notice Emitted when the market collects revenue its shares of the asset earned (claimed from the
    ///         shares before an action on one of the asset's positions). With no collateral deposited it all
    ///         becomes stray revenue for the treasury and the accumulator does not move.
    /// @param assetId the asset
    /// @param amount the revenue collected, stablecoin base units
    /// @param revenuePerCollateral the asset's collateral revenue accumulator after it (scale 1e36 per
    ///        collateral unit)
    event RevenueCollected(uint256 indexed assetId, uint256 amount, uint256 revenuePerCollateral);
    /// @notice Emitted when a borrower claims its revenue surplus.
    /// @param assetId the asset
    /// @param borrower the position's borrower (the caller)
    /// @param to the address paid
    /// @param amount the surplus paid, stablecoin base units
    event SurplusClaimed(uint256 indexed assetId, address indexed borrower, address indexed to, uint256 amount);
    /// @notice Emitted when a position is liquidated.
    /// @param assetId the asset
    /// @param borrower the liquidated position's borrower
    /// @param liquidator who repaid (the caller)
    /// @param repaid the debt repaid by the liquidator, stablecoin base units
    /// @param seized capacity shares sent to the liquidator's `to` (18 decimals)
    /// @param pricePerShare the feed's lending price used, stablecoin base units per whole share
    /// @param badDebt debt written off against the lenders because no collateral was left, stablecoin base units
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
    ///         the bonus at the feed's lending price (stale or not; never the NAV). Collateral revenue owed to
    ///         the position repays its debt first.
    /// @return seized capacity shares sent to `to`
    function liquidate(uint256 assetId, address borrower, uint256 repayAmount, address to)
        external
        returns (uint256 seized);

    /// @notice Applies the position's collateral revenue (anyone may call; the borrower gains).
    function settle(uint256 assetId, address borrower) external;

    /// @notice Sends the caller's revenue surplus (what was left after its debt) to `to`.
    function claimSurplus(uint256 assetId, address to) external returns (uint256 amount);

    // ---------------------------------------------------------------- views
    /// @notice The borrower's position against the asset (as of its last settlement).
    function positionOf(uint256 assetId, address borrower) external view returns (Position memory);
    /// @notice Debt now: interest included (rounded up), less the collateral revenue its next settlement
    ///         will apply. What a transaction in this block would find.
    function debtOf(uint256 assetId, address borrower) external view returns (uint256);
    /// @notice Collateral value x liquidation threshold / debt, 1e18 = 1; max uint256 without debt.
    function healthFactor(uint256 assetId, address borrower) external view returns (uint256);
    /// @notice What the position could still borrow at the latest price (zero when the feed is stale).
    function borrowCapacity(uint256 assetId, address borrower) external view returns (uint256);
    /// @notice The asset's risk parameters (zero when not listed).
    function collateralParams(uint256 assetId) external view returns (CollateralParams memory);
    /// @notice The asset's NavOracle (zero when not listed).
    function feedOf(uint256 assetId) external view returns (address);
    /// @notice The asset's caps.
    function capsOf(uint256 assetId) external view returns (Caps memory);
    /// @notice The debt the asset's positions owe now (interest included, rounded up).
    function assetDebt(uint256 assetId) external view returns (uint256);
    /// @notice Revenue of shares held outside any position, waiting for {sweepStrayRevenue}; stablecoin base units.
    function strayRevenue() external view returns (uint256);
}
