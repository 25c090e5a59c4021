// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title IOracle (Morpho Blue)
/// @notice The one function Morpho Blue reads from a market's oracle, declared with the same selector as
///         Morpho Blue's src/interfaces/IOracle.sol (GPL-2.0, so declared here rather than imported).
/// @dev Returns the price of 1 base unit of collateral quoted in base units of the loan token, scaled by
///      1e36: the value of 10**(collateral decimals) collateral in 10**(loan decimals) loan tokens has
///      `36 + loan decimals - collateral decimals` decimals of precision.
interface IOracle {
    /// @notice The price of one base unit of collateral in base units of the loan token, scaled by 1e36.
    function price() external view returns (uint256);
}
