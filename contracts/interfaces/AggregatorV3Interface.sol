// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title AggregatorV3Interface
/// @notice Chainlink's price feed interface, declared here with the same functions and selectors as
///         Chainlink's own (npm package chainlink/contracts, shared/interfaces/AggregatorV3Interface.sol), so
///         that integrators read a Wellhead feed exactly as they read any Chainlink feed. The npm
///         package is not a dependency: its current releases pull a GitHub-hosted package and a second
///         OpenZeppelin major version. `test/forge/unit/NavOracle.t.sol` checks the selectors.
interface AggregatorV3Interface {
    function decimals() external view returns (uint8);

    function description() external view returns (string memory);

    function version() external view returns (uint256);

    function getRoundData(uint80 _roundId)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
