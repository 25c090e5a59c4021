// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {CapacityShares} from "./CapacityShares.sol";

/// @title CapacitySharesFactory
/// @notice Deploys CapacityShares with CREATE2 (salted by the caller and asset id), keeping the shares'
///         creation code out of the registry's size budget. Permissionless and stateless: the
///         LeaseMarket only trusts the shares address the registry recorded for an asset.
contract CapacitySharesFactory {
    event SharesDeployed(address indexed registry, uint256 indexed assetId, address shares);

    function deploy(CapacityShares.Init calldata init) external returns (address shares) {
        shares = address(new CapacityShares{salt: keccak256(abi.encode(msg.sender, init.assetId))}(init));
        emit SharesDeployed(msg.sender, init.assetId, shares);
    }
}
