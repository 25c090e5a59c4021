// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AssetStatus, AssetTerms, ICapacityRegistry} from "./interfaces/ICapacityRegistry.sol";
import {INavOracleFactory, NavParams} from "./interfaces/INavOracle.sol";
import {NavOracle} from "./NavOracle.sol";

/// @title NavOracleFactory
/// @notice See {INavOracleFactory}. The feed's address is a CREATE2 of the asset id, so an integrator
///         can compute it, and an asset can have only one.
contract NavOracleFactory is INavOracleFactory {
    ICapacityRegistry public immutable registry;
    mapping(uint256 assetId => address) public override oracleOf;

    constructor(ICapacityRegistry registry_) {
        registry = registry_;
    }

    /// @inheritdoc INavOracleFactory
    /// @dev The operator chooses the parameters within NavOracle's bounds; lenders decide whether the
    ///      resulting feed is good enough to lend against (the CreditMarket's listing), not the operator.
    function create(uint256 assetId, NavParams calldata params) external returns (address feed) {
        AssetTerms memory t = registry.terms(assetId);
        if (t.status == AssetStatus.None) revert NavUnknownAsset(assetId);
        if (msg.sender != t.operator) revert NavOnlyOperator(assetId, msg.sender);
        feed = oracleOf[assetId];
        if (feed != address(0)) revert NavFeedExists(assetId, feed);
        feed = address(new NavOracle{salt: bytes32(assetId)}(registry, assetId, params));
        oracleOf[assetId] = feed;
        emit NavOracleCreated(assetId, feed, params);
    }
}
