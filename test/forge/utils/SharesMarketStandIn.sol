// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {Blocklist} from "../../../contracts/interfaces/IStablecoinGuard.sol";
import {CapacityShares} from "../../../contracts/CapacityShares.sol";
import {AssetLedger, ILeaseMarket} from "../../../contracts/interfaces/ILeaseMarket.sol";

/// @notice Plays the LeaseMarket for one CapacityShares with nothing else around it: deposits through
///         `distribute`, records what `claim` asks it to pay, and keeps the holder ledger `totalClaimed`
///         reads (deposited and not yet paid). Used by the unit and the symbolic tests of the accumulator.
abstract contract SharesMarketStandIn {
    CapacityShares internal shares;
    uint256 internal deposited;
    uint256 internal paid;

    /// @dev `totalShares` in all, `investorShares` of them to `investor`, the rest to `operator`.
    function _deployShares(uint256 totalShares, address investor, uint256 investorShares, address operator) internal {
        address[] memory investors = new address[](1);
        investors[0] = investor;
        uint256[] memory allocations = new uint256[](1);
        allocations[0] = investorShares;
        shares = new CapacityShares(
            CapacityShares.Init({
                name: "Stand-in",
                symbol: "SI",
                assetId: 1,
                market: ILeaseMarket(address(this)),
                operator: operator,
                stablecoin: IERC20(address(0)),
                blocklist: Blocklist({target: address(0), selector: bytes4(0)}),
                restricted: false,
                totalShares: totalShares,
                investors: investors,
                investorShares: allocations
            })
        );
    }

    function _distribute(uint256 amount) internal {
        deposited += amount;
        shares.distribute(amount);
    }

    /// @dev The market side of `claim`: pays `amount` of the holders' revenue.
    function payHolderRevenue(uint256, address, uint256 amount) external {
        assert(msg.sender == address(shares));
        paid += amount;
    }

    function ledgerOf(uint256) external view returns (AssetLedger memory ledger) {
        ledger.holdersRevenue = uint128(deposited - paid);
    }
}
