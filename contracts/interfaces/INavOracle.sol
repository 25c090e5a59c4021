// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";
import {IOracle} from "./IOracle.sol";

/// @notice Valuation parameters of one asset's feed, fixed when the feed is created and bounded.
struct NavParams {
    uint32 windowEpochs; // trailing window of finalized epochs the revenue and uptime are averaged over
    uint32 staleAfterEpochs; // the feed is stale when no epoch has finalized for this many epochs
    uint64 depreciationEnd; // timestamp where the hardware's useful life (and the revenue) is taken to end
    uint16 lendingLifeWindows; // M: the lending price counts at most this many windows of remaining life
    uint16 trackRecordWindows; // K: the lending price is the mean of this many consecutive full windows
}

/// @notice One recorded round: the valuation as of one finalized epoch.
/// @dev Four storage slots.
struct NavRound {
    uint64 epoch; // the latest finalized epoch the round values
    uint64 updatedAt; // when that epoch finalized (its settlement's timestamp), not when the round was recorded
    uint128 pricePerShare; // NAV: stablecoin base units per whole share (1e18 share units), rounded down
    uint256 revenuePerShare; // the shares' lease revenue accumulator as of the epoch (scale 1e36; energy income excluded)
    uint128 cappedPrice; // this window's price with the remaining life capped at M windows
    uint128 lendingPrice; // the mean capped price of this round's window and the K - 1 windows before it
    uint64 baseRoundId; // the round this window starts after (0: genesis)
    uint16 fullWindows; // consecutive windows of at least `windowEpochs` ending here, counted up to K
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
    ///         depreciation end after now and at most 8 years away.
    error NavInvalidParams(uint32 windowEpochs, uint32 staleAfterEpochs, uint64 depreciationEnd);
    /// @notice Bounds: 1 to 120 windows of life for the lending price, a track record of 1 to 12 windows.
    error NavInvalidLendingParams(uint16 lendingLifeWindows, uint16 trackRecordWindows);
    error NavNoRounds(uint256 assetId);
    error NavUnknownRound(uint80 roundId, uint256 rounds);

    /// @param epoch the finalized epoch valued; `pricePerShare` in stablecoin base units per whole share
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

    function assetId() external view returns (uint256);
    function shares() external view returns (address);
    function params() external view returns (NavParams memory);
    function roundCount() external view returns (uint256);
    function roundAt(uint80 roundId) external view returns (NavRound memory);
}

/// @title NavOracleFactory
/// @notice Creates one NavOracle per asset, at the request of the asset's operator, once; its parameters
///         are checked against the protocol's bounds and cannot change afterwards.
interface INavOracleFactory {
    error NavUnknownAsset(uint256 assetId);
    error NavOnlyOperator(uint256 assetId, address caller);
    error NavFeedExists(uint256 assetId, address feed);

    event NavOracleCreated(uint256 indexed assetId, address indexed feed, NavParams params);

    function create(uint256 assetId, NavParams calldata params) external returns (address feed);
    function oracleOf(uint256 assetId) external view returns (address);
}
