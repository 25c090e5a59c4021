// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {NavOracle} from "../../../contracts/NavOracle.sol";
import {AssetStatus, AssetTerms, ICapacityRegistry} from "../../../contracts/interfaces/ICapacityRegistry.sol";
import {AssetLedger, EpochIndex} from "../../../contracts/interfaces/ILeaseMarket.sol";
import {NavParams, NavRound} from "../../../contracts/interfaces/INavOracle.sol";
import {Test} from "../utils/Test.sol";

/// @dev Stands in for the registry, the market, the shares and the stablecoin, returning whatever the
///      test sets: the NAV's arithmetic is checked at the edges of what its inputs' types allow, which the
///      real protocol would take centuries of epochs to reach.
contract NavInputs {
    uint64 public genesis;
    uint32 public epochLength;
    uint64 public nextEpoch;
    uint256 public revenuePerShare;
    mapping(uint64 => uint64) public delivered;

    function set(uint64 genesis_, uint32 epochLength_) external {
        genesis = genesis_;
        epochLength = epochLength_;
    }

    function settle(uint64 epoch, uint256 rps, uint64 deliveredIndex) external {
        nextEpoch = epoch + 1;
        revenuePerShare = rps;
        delivered[epoch] = deliveredIndex;
    }

    function terms(uint256) external view returns (AssetTerms memory t) {
        t.genesis = genesis;
        t.epochLength = epochLength;
        t.shares = address(this);
        t.status = AssetStatus.Active;
    }

    function energyIncomeOf(uint256) external pure returns (uint256, uint256) {
        return (0, 0);
    }

    function totalSupply() external pure returns (uint256) {
        return 1e18;
    }

    function leaseMarket() external view returns (address) {
        return address(this);
    }

    function stablecoin() external view returns (address) {
        return address(this);
    }

    function decimals() external pure returns (uint8) {
        return 6;
    }

    function symbol() external pure returns (string memory) {
        return "X";
    }

    function ledgerOf(uint256) external view returns (AssetLedger memory l) {
        l.nextEpochToFinalize = nextEpoch;
    }

    function epochIndexOf(uint256, uint64 epoch) external view returns (EpochIndex memory i) {
        i.firmDelivered = delivered[epoch];
        i.finalizedAt = uint64(block.timestamp);
    }
}

contract NavOracleBoundsTest is Test {
    /// @notice Whatever the accumulator, the epoch and the epoch length, and any delivered index the market
    ///         can produce, recording a round never reverts (no division by zero, no overflow) and the price
    ///         fits its round. (A deep run found that an index growing faster than 1e8 an epoch, which the
    ///         market cannot write, overflows the price: the bound below is the market's, not a convenience.)
    function testFuzz_update_NeverDividesByZeroOrOverflows(
        uint256 rps1,
        uint256 rps2,
        uint64 epoch1,
        uint64 gap,
        uint32 epochLength,
        uint64 delivered1,
        uint64 delivered2,
        uint32 window
    ) public {
        epochLength = uint32(bound(epochLength, 60, 30 days));
        window = uint32(bound(window, (1 hours + epochLength - 1) / epochLength, 366 days / epochLength));
        // epochs as far as the round's 48-bit epoch key and a 64-bit timestamp allow
        uint256 maxEpoch = 2 ** 62 / epochLength < 2 ** 46 ? 2 ** 62 / epochLength : 2 ** 46;
        epoch1 = uint64(bound(epoch1, 0, maxEpoch));
        gap = uint64(bound(gap, 1, maxEpoch));
        rps2 = bound(rps2, 0, type(uint256).max - rps1);
        // the market's delivered index grows by at most 1e8 an epoch (uptime bps x 1e4), as far as 64 bits go
        delivered1 = uint64(bound(delivered1, 0, _min(1e8 * (uint256(epoch1) + 1), type(uint64).max)));
        delivered2 = uint64(bound(delivered2, 0, _min(1e8 * uint256(gap), type(uint64).max - delivered1)));

        NavInputs inputs = new NavInputs();
        inputs.set(1, epochLength);
        vm.warp(1 + uint256(epoch1 + gap + 2) * epochLength);
        NavOracle nav = new NavOracle(
            ICapacityRegistry(address(inputs)),
            1,
            NavParams({
                windowEpochs: window,
                staleAfterEpochs: 2,
                depreciationEnd: uint64(block.timestamp + 8 * 365 days),
                lendingLifeWindows: 120,
                trackRecordWindows: 12
            })
        );
        inputs.settle(epoch1, rps1, delivered1);
        assertTrue(nav.update(), "first round");
        inputs.settle(epoch1 + gap, rps1 + rps2, delivered1 + delivered2);
        assertTrue(nav.update(), "second round");
        NavRound memory r = nav.roundAt(2);
        assertEq(r.epoch, epoch1 + gap, "valued epoch");
        assertLe(r.cappedPrice, r.pricePerShare, "capping the life never raises the price");
        assertLe(r.lendingPrice, (uint256(r.cappedPrice) + nav.roundAt(1).cappedPrice) / 12, "the mean of 12 windows");
        assertEq(nav.price(), 0, "two rounds are no 12-window track record: the Morpho price is 0");
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
