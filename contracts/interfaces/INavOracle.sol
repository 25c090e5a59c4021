// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";
import {IOracle} from "./IOracle.sol";

/// @notice Valuation parameters of one asset's feed, fixed when the feed is created and bounded.
struct NavParams {
    uint32 windowEpochs; // trailing window of finalized epochs the revenue and uptime are averaged over
    uint32 staleAfterEpochs; // the feed is stale when no epoch has finalized for this many epochs
    uint64 depreciationEnd; // timestamp where the hardware's useful life (and the revenue) is taken to end
}

/// @notice One recorded round: the valuation as of one finalized epoch.
/// @dev Two storage slots.
struct NavRound {
    uint64 epoch; // the latest finalized epoch the round values
    uint64 updatedAt; // when that epoch finalized (its settlement's timestamp), not when the round was recorded
    uint128 pricePerShare; // stablecoin base units per whole share (1e18 share units), rounded down
    uint256 revenuePerShare; // the shares' lease revenue accumulator as of the epoch (scale 1e36; energy income excluded)
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
///         Served as a Chainlink feed (one round per recorded epoch; roundId = index + 1) and as Morpho
///         Blue's `IOracle.price()`.
interface INavOracle is AggregatorV3Interface, IOracle {
    /// @notice Bounds: a window of 1 hour to 366 days, staleness after 2 to 1,000 epochs, and a
    ///         depreciation end after now and at most 8 years away.
    error NavInvalidParams(uint32 windowEpochs, uint32 staleAfterEpochs, uint64 depreciationEnd);
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

    /// @notice Records a round for the latest finalized epoch if it is newer than the last round.
    /// @return recorded false when there was nothing new (no state change)
    function update() external returns (bool recorded);

    /// @notice The latest recorded price per whole share and whether the feed is stale.
    function latestPrice() external view returns (uint256 pricePerShare, uint64 epoch, bool stale);

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
