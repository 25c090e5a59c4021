// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";
import {IOracle} from "./IOracle.sol";

/// @notice Valuation parameters of one asset's feed, fixed when the feed is created and bounded.
/// @param windowEpochs trailing window of finalized epochs the revenue and uptime are averaged over (1 hour to
///        366 days of epochs)
/// @param staleAfterEpochs the feed is stale when no epoch has finalized for this many epochs (2 to 1,000)
/// @param depreciationEnd timestamp where the hardware's useful life (and the revenue) is taken to end
/// @param lendingLifeWindows M: the lending price counts at most this many windows of remaining life (1 to 120)
/// @param trackRecordWindows K: the lending price is the mean of this many consecutive full windows (1 to 12)
struct NavParams {
    uint32 windowEpochs;
    uint32 staleAfterEpochs;
    uint64 depreciationEnd;
    uint16 lendingLifeWindows;
    uint16 trackRecordWindows;
}

/// @notice One recorded round: the valuation as of one finalized epoch.
/// @dev Four storage slots.
/// @param epoch the latest finalized epoch the round values
/// @param updatedAt when that epoch finalized (its settlement's timestamp), not when the round was recorded
/// @param pricePerShare NAV: stablecoin base units per whole share (1e18 share units), rounded down
/// @param revenuePerShare the shares' lease revenue accumulator as of the epoch (scale 1e36; energy income
///        excluded)
/// @param cappedPrice this window's price with the remaining life capped at M windows (stablecoin base units per
///        whole share)
/// @param lendingPrice the mean capped price of this round's window and the K - 1 windows before it (stablecoin
///        base units per whole share)
/// @param baseRoundId the round this window starts after (0: genesis)
/// @param fullWindows consecutive windows of at least `windowEpochs` ending here, counted up to K
struct NavRound {
    uint64 epoch;
    uint64 updatedAt;
    uint128 pricePerShare;
    uint256 revenuePerShare;
    uint128 cappedPrice;
    uint128 lendingPrice;
    uint64 baseRoundId;
    uint16 fullWindows;
}

/// @title NavOracle
/// @notice An on-chain price of one asset's capacity shares in the stablecoin, computed from finalized
///         epochs only:
///
///             price = A x U x R
///
///         A: the holders' net revenue per share over the trailing window, annualised;
///         U: the asset's uptime over the same window (unproven epochs count as zero);
///         R: the remaining depreciation life in years at the end of the valued epoch (zero past it).
///
///         It is the undiscounted cash flow the shares would earn at the trailing rate and reliability
///         until the hardware is written off. Every term rounds down. The price changes only when a
///         newer finalized epoch is recorded by `update()`, which anyone may call; nothing else moves it.
///
///         The NAV is a valuation, and revenue can be bought: a holder who leases the asset to itself
///         raises it. Lending therefore uses the *lending price*: each window's price with R capped at
///         M windows (`cappedPrice`), averaged over the last K consecutive disjoint windows of at least
///         `windowEpochs` each (`lendingPrice`). Each window's capped price is at most M x that window's
///         holder revenue per share, so raising the mean by dP per share needs K x dP / M of holder revenue
///         per share across the K windows, whatever they held before: whoever spends S on leases raises
///         the lending value of all shares by at most (M / K) x (holders' part of S). Until K full windows
///         exist the feed is young and backs no borrowing (`seasoned` false).
///         Served as a Chainlink feed (one round per recorded epoch; roundId = index + 1; the answer is
///         the lending price, 0 while young) and as Morpho Blue's `IOracle.price()` (the same).
interface INavOracle is AggregatorV3Interface, IOracle {
    /// @notice Bounds: a window of 1 hour to 366 days, staleness after 2 to 1,000 epochs, and a
    ///         depreciation end after now and at most 8 years away. Raised when a feed is created with
    ///         parameters outside them (a window of zero epochs included).
    /// @param windowEpochs the window given, epochs
    /// @param staleAfterEpochs the staleness given, epochs
    /// @param depreciationEnd the depreciation end given (unix seconds)
    error NavInvalidParams(uint32 windowEpochs, uint32 staleAfterEpochs, uint64 depreciationEnd);
    /// @notice Bounds: 1 to 120 windows of life for the lending price, a track record of 1 to 12 windows.
    ///         Raised when a feed is created with parameters outside them.
    /// @param lendingLifeWindows M given, windows
    /// @param trackRecordWindows K given, windows
    error NavInvalidLendingParams(uint16 lendingLifeWindows, uint16 trackRecordWindows);
    /// @notice Raised when a price or a round is read before the feed has recorded any round.
    /// @param assetId the feed's asset
    error NavNoRounds(uint256 assetId);
    /// @notice Raised when a round is read that does not exist (round ids run from 1 to the round count).
    /// @param roundId the round id asked for
    /// @param rounds the rounds recorded
    error NavUnknownRound(uint80 roundId, uint256 rounds);

    /// @notice Emitted when {update} records a round for a newly finalized epoch (with LendingPriceUpdated).
    /// @param assetId the feed's asset
    /// @param roundId the new round's id (its index + 1)
    /// @param epoch the finalized epoch valued; `pricePerShare` in stablecoin base units per whole share
    /// @param pricePerShare the NAV, A x U x R: stablecoin base units per whole share, rounded down
    /// @param annualRevenuePerShare A: the holders' lease revenue per whole share over the window, annualised,
    ///        stablecoin base units a year
    /// @param uptimeBps U: the asset's uptime over the window (unproven epochs count as zero), bps
    /// @param remainingLifeSeconds R in seconds: depreciation life left at the end of the valued epoch
    /// @param windowStartEpoch the first epoch of the window (0 when it starts at genesis)
    event NavUpdated(
        uint256 indexed assetId,
        uint80 indexed roundId,
        uint64 epoch,
        uint256 pricePerShare,
        uint256 annualRevenuePerShare,
        uint256 uptimeBps,
        uint256 remainingLifeSeconds,
        uint64 windowStartEpoch
    );

    /// @notice Emitted with each NavUpdated: the round's lending price.
    /// @param assetId the feed's asset
    /// @param roundId the new round's id
    /// @param lendingPrice the mean capped price over K windows (missing windows count as zero), stablecoin base
    ///        units per whole share; the feed backs loans only once `fullWindows` reaches K
    /// @param cappedPrice this window's price with the remaining life capped at M windows, stablecoin base units
    ///        per whole share
    /// @param fullWindows consecutive full windows ending at this round, up to the track record K
    event LendingPriceUpdated(
        uint256 indexed assetId, uint80 indexed roundId, uint256 lendingPrice, uint256 cappedPrice, uint16 fullWindows
    );

    /// @notice Records a round for the latest finalized epoch if it is newer than the last round.
    /// @return recorded false when there was nothing new (no state change)
    function update() external returns (bool recorded);

    /// @notice The latest recorded price per whole share and whether the feed is stale.
    function latestPrice() external view returns (uint256 pricePerShare, uint64 epoch, bool stale);

    /// @notice The latest lending price per whole share (see the contract's notice), whether the feed
    ///         is stale, and whether it is seasoned (K full windows recorded; a young feed backs no loan).
    function lendingPrice() external view returns (uint256 price, uint64 epoch, bool stale, bool seasoned);

    /// @notice When the feed last recovered from staleness (a round recorded after the finalized data had
    ///         gone stale: the epoch after the last round finalized only once that round was stale); 0 if it
    ///         never did. Lenders give borrowers a grace period from it.
    function recoveredAt() external view returns (uint64);

    /// @notice The current epoch by the clock (not the latest finalized one).
    function currentEpoch() external view returns (uint64);

    /// @notice True when the last recorded epoch is more than `staleAfterEpochs` behind the current one.
    function isStale() external view returns (bool);

    /// @notice The asset the feed values.
    function assetId() external view returns (uint256);
    /// @notice The asset's CapacityShares token.
    function shares() external view returns (address);
    /// @notice The feed's valuation parameters.
    function params() external view returns (NavParams memory);
    /// @notice Rounds recorded so far (the latest round id).
    function roundCount() external view returns (uint256);
    /// @notice Round `roundId` (1-based).
    function roundAt(uint80 roundId) external view returns (NavRound memory);
}

/// @title NavOracleFactory
/// @notice Creates one NavOracle per asset, at the request of the asset's operator, once; its parameters
///         are checked against the protocol's bounds and cannot change afterwards.
interface INavOracleFactory {
    /// @notice Raised when a feed is created for an asset id that was never registered.
    /// @param assetId the asset id given
    error NavUnknownAsset(uint256 assetId);
    /// @notice Raised when anyone but the asset's operator creates its feed.
    /// @param assetId the asset
    /// @param caller the caller
    error NavOnlyOperator(uint256 assetId, address caller);
    /// @notice Raised when the asset already has a feed.
    /// @param assetId the asset
    /// @param feed its feed
    error NavFeedExists(uint256 assetId, address feed);

    /// @notice Emitted when an asset's NavOracle is created.
    /// @param assetId the asset
    /// @param feed the new NavOracle (a CREATE2 address salted by the asset id)
    /// @param params its valuation parameters
    event NavOracleCreated(uint256 indexed assetId, address indexed feed, NavParams params);

    /// @notice Creates the asset's NavOracle with `params`; the asset's operator only, once per asset.
    function create(uint256 assetId, NavParams calldata params) external returns (address feed);
    /// @notice The asset's NavOracle; zero when it has none.
    function oracleOf(uint256 assetId) external view returns (address);
}
