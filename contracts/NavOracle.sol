// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {AssetTerms, ICapacityRegistry} from "./interfaces/ICapacityRegistry.sol";
import {ICapacityShares} from "./interfaces/ICapacityShares.sol";
import {EpochIndex, ILeaseMarket} from "./interfaces/ILeaseMarket.sol";
import {INavOracle, NavParams, NavRound} from "./interfaces/INavOracle.sol";
import {IOracle} from "./interfaces/IOracle.sol";
import {Constants} from "./libraries/Constants.sol";

/// @title NavOracle
/// @notice See {INavOracle}. One per asset, created by the NavOracleFactory.
/// @dev The price of the round for finalized epoch N, over the window (b, N] where b is the epoch of the
///      latest recorded round at or before N - windowEpochs (or -1, genesis, when there is none):
///
///        A = (rps[N] - rps[b]) x 1e18 / 1e36                 per share, over `span` = N - b epochs
///            x YEAR / (span x epochLength)                     annualised
///        U = (delivered[N] - delivered[b]) / (span x 1e8)     LeaseMarket's firm delivered index
///        R = (depreciationEnd - end of epoch N) / YEAR
///
///      price = A x U x R = dRps x dDelivered x R / (1e26 x span^2 x epochLength), rounded down.
///      cappedPrice is the same with R at most M x windowEpochs x epochLength; lendingPrice the mean
///      cappedPrice of the round and the K - 1 rounds its window chain reaches (round -> its base round).
///      `rps` is the shares' revenue accumulator, which only moves when an epoch finalizes, so its value
///      read at any time is exactly its value at the latest finalized epoch.
contract NavOracle is INavOracle, IERC165 {
    using Checkpoints for Checkpoints.Trace208;

    uint256 private constant YEAR = 365 days;
    uint256 private constant ACC_SCALE = 1e36; // CapacityShares' accumulator scale
    uint256 private constant ACC_PER_UNIT = 1e18; // accumulator units per stablecoin unit per whole share (1e36 / 1e18)
    uint256 private constant INDEX_SCALE = Constants.SCALE; // LeaseMarket's delivered fraction per epoch
    uint256 private constant INDEX_PER_BPS = 1e4; // delivered index units per bps of uptime in one epoch
    uint256 private constant MIN_WINDOW = 1 hours;
    uint256 private constant MAX_WINDOW = 366 days;
    uint32 private constant MIN_STALE_EPOCHS = 2;
    uint32 private constant MAX_STALE_EPOCHS = 1_000;
    uint256 private constant MAX_LIFE = 8 * 365 days;
    uint16 private constant MAX_LENDING_LIFE_WINDOWS = 120;
    uint16 private constant MAX_TRACK_RECORD_WINDOWS = 12; // bounds the chain update() walks

    uint256 public immutable override assetId;
    address public immutable override shares;
    ILeaseMarket public immutable market;
    uint8 public immutable override decimals;
    uint64 private immutable _genesis;
    uint32 private immutable _epochLength;
    uint32 private immutable _windowEpochs;
    uint32 private immutable _staleAfterEpochs;
    uint64 private immutable _depreciationEnd;
    uint16 private immutable _lendingLifeWindows;
    uint16 private immutable _trackRecordWindows;
    string private _description;
    uint64 public override recoveredAt;

    NavRound[] private _rounds;
    /// @dev epoch -> roundId, to find the window's start round in O(log rounds)
    Checkpoints.Trace208 private _roundByEpoch;

    constructor(ICapacityRegistry registry, uint256 assetId_, NavParams memory p) {
        AssetTerms memory t = registry.terms(assetId_);
        uint256 window = uint256(p.windowEpochs) * t.epochLength;
        if (
            p.windowEpochs == 0 || window < MIN_WINDOW || window > MAX_WINDOW || p.staleAfterEpochs < MIN_STALE_EPOCHS
                || p.staleAfterEpochs > MAX_STALE_EPOCHS || p.depreciationEnd <= block.timestamp
                || p.depreciationEnd > block.timestamp + MAX_LIFE
        ) revert NavInvalidParams(p.windowEpochs, p.staleAfterEpochs, p.depreciationEnd);
        if (
            p.lendingLifeWindows == 0 || p.lendingLifeWindows > MAX_LENDING_LIFE_WINDOWS || p.trackRecordWindows == 0
                || p.trackRecordWindows > MAX_TRACK_RECORD_WINDOWS
        ) revert NavInvalidLendingParams(p.lendingLifeWindows, p.trackRecordWindows);
        assetId = assetId_;
        shares = t.shares;
        market = ILeaseMarket(registry.leaseMarket());
        IERC20Metadata stablecoin = IERC20Metadata(registry.stablecoin());
        decimals = stablecoin.decimals();
        _genesis = t.genesis;
        _epochLength = t.epochLength;
        _windowEpochs = p.windowEpochs;
        _staleAfterEpochs = p.staleAfterEpochs;
        _depreciationEnd = p.depreciationEnd;
        _lendingLifeWindows = p.lendingLifeWindows;
        _trackRecordWindows = p.trackRecordWindows;
        _description = string.concat(IERC20Metadata(t.shares).symbol(), " / ", stablecoin.symbol(), " NAV");
    }

    // ---------------------------------------------------------------- update

    /// @dev The working values of one round's valuation.
    struct Valuation {
        uint256 revenuePerShare; // lease revenue accumulator at the valued epoch
        uint256 revenueDelta; // accumulated over the window
        uint256 deliveredDelta; // sum of delivered fractions over the window (1e8 per fully delivered epoch)
        uint256 span; // epochs in the window
        uint256 remaining; // seconds of depreciation life left at the end of the valued epoch
        uint64 windowStart; // first epoch of the window
        uint64 finalizedAt;
        uint128 price;
        uint128 cappedPrice; // price with the remaining life capped at M windows
        uint64 baseRoundId; // 0: the window starts at genesis
    }

    /// @inheritdoc INavOracle
    function update() external returns (bool recorded) {
        uint64 next = market.ledgerOf(assetId).nextEpochToFinalize;
        if (next == 0) return false; // nothing finalized yet
        uint64 epoch = next - 1;
        uint256 count = _rounds.length;
        if (count != 0 && _rounds[count - 1].epoch >= epoch) return false;

        // The feed recovers when this round ends a stretch in which the finalized data itself was stale: the
        // epoch after the last recorded one finalized only once that round had gone stale. Rounds merely not
        // recorded for a while (nobody called update) are no outage.
        if (count != 0) {
            uint64 previous = _rounds[count - 1].epoch;
            if (_isStale(previous) && market.epochIndexOf(assetId, previous + 1).finalizedAt >= _staleAt(previous)) {
                recoveredAt = uint64(block.timestamp);
            }
        }
        Valuation memory v = _value(epoch);
        uint80 roundId = uint80(count + 1);
        (uint128 lending, uint16 fullWindows) = _trackRecord(v, epoch);
        _rounds.push(
            NavRound({
                epoch: epoch,
                updatedAt: v.finalizedAt,
                pricePerShare: v.price,
                revenuePerShare: v.revenuePerShare,
                cappedPrice: v.cappedPrice,
                lendingPrice: lending,
                baseRoundId: v.baseRoundId,
                fullWindows: fullWindows
            })
        );
        // slither-disable-next-line unused-return (the previous and new values of the checkpoint)
        _roundByEpoch.push(SafeCast.toUint48(epoch), roundId);
        emit NavUpdated(
            assetId,
            roundId,
            epoch,
            v.price,
            Math.mulDiv(v.revenueDelta, YEAR, ACC_PER_UNIT * v.span * _epochLength),
            v.deliveredDelta / (v.span * INDEX_PER_BPS),
            v.remaining,
            v.windowStart
        );
        emit LendingPriceUpdated(assetId, roundId, lending, v.cappedPrice, fullWindows);
        return true;
    }

    /// @dev The mean capped price over the new round's window and the windows its chain of base rounds
    ///      reaches, K in all (rounded down; windows missing while young count as zero), and how many of those
    ///      consecutive windows span `windowEpochs` or more. The windows are disjoint and contiguous: each
    ///      round's window starts after its base round's epoch. A mean, not a minimum: raising a minimum
    ///      costs only the weakest window's revenue (an asset whose lessee just left is washed in one window,
    ///      the review's finding), while raising the mean by dP costs K x dP / M of holder revenue per share
    ///      whatever the other windows hold.
    function _trackRecord(Valuation memory v, uint64 epoch) private view returns (uint128 lending, uint16 full) {
        uint256 span = v.baseRoundId == 0 ? uint256(epoch) + 1 : v.span;
        if (span < _windowEpochs) return (v.cappedPrice / _trackRecordWindows, 0); // a short genesis window
        uint256 sum = v.cappedPrice;
        full = 1;
        uint64 base = v.baseRoundId;
        while (full < _trackRecordWindows && base != 0) {
            NavRound storage r = _rounds[base - 1];
            if (r.fullWindows == 0) break; // that window (at genesis) was short
            sum += r.cappedPrice;
            ++full;
            base = r.baseRoundId;
        }
        lending = uint128(sum / _trackRecordWindows);
    }

    /// @dev The holders' lease revenue per share so far: the shares' accumulator less the energy income the
    ///      operator paid in. Energy income is one-off and the operator's own deposit, so it is paid to holders
    ///      but not capitalised into the price. Rounded against the borrower (the subtrahend rounds up).
    function _leaseRevenuePerShare() private view returns (uint256) {
        // slither-disable-next-line unused-return (the total paid in is not the holders' part)
        (, uint256 energy) = market.energyIncomeOf(assetId);
        uint256 accumulated = ICapacityShares(shares).revenuePerShare();
        if (energy == 0) return accumulated;
        uint256 energyPerShare =
            Math.mulDiv(energy, ACC_SCALE, IERC20Metadata(shares).totalSupply(), Math.Rounding.Ceil);
        return accumulated > energyPerShare ? accumulated - energyPerShare : 0;
    }

    function _value(uint64 epoch) private view returns (Valuation memory v) {
        v.revenuePerShare = _leaseRevenuePerShare();
        EpochIndex memory index = market.epochIndexOf(assetId, epoch);
        v.finalizedAt = index.finalizedAt;
        v.revenueDelta = v.revenuePerShare;
        v.deliveredDelta = index.firmDelivered;
        v.span = uint256(epoch) + 1;
        uint256 baseRoundId =
            epoch < _windowEpochs ? 0 : _roundByEpoch.upperLookupRecent(SafeCast.toUint48(epoch - _windowEpochs));
        if (baseRoundId != 0) {
            // Otherwise the window starts at genesis: the accumulator and the index are zero before epoch 0.
            NavRound storage base = _rounds[baseRoundId - 1];
            // the lease accumulator can step back by a rounding unit per energy deposit
            v.revenueDelta = v.revenueDelta > base.revenuePerShare ? v.revenueDelta - base.revenuePerShare : 0;
            v.deliveredDelta -= market.epochIndexOf(assetId, base.epoch).firmDelivered;
            v.span = epoch - base.epoch;
            v.windowStart = base.epoch + 1;
            v.baseRoundId = uint64(baseRoundId);
        }
        uint256 epochEnd = _epochEnd(epoch);
        v.remaining = _depreciationEnd > epochEnd ? _depreciationEnd - epochEnd : 0;
        v.price = _price(v, v.remaining);
        uint256 lifeCap = uint256(_lendingLifeWindows) * _windowEpochs * _epochLength;
        v.cappedPrice = v.remaining > lifeCap ? _price(v, lifeCap) : v.price;
    }

    /// @dev The window's price at `remaining` seconds of life.
    function _price(Valuation memory v, uint256 remaining) private view returns (uint128) {
        // dRps x (dDelivered x R) / (1e26 x span^2 x epochLength): the market's delivered index grows by at
        // most 1e8 an epoch, so the second factor is at most 1e8 x span x R with R < 2^64 s (a uint64 end
        // less an epoch's end), the divisor at least 1e26 x span x 60 and below 2^247 for any span and epoch
        // length the types allow; mulDiv keeps the 512-bit product and its result is below dRps (the ratio is
        // under 2^64 / 6e19 < 1), so nothing can overflow.
        uint256 value = Math.mulDiv(
            v.revenueDelta, v.deliveredDelta * remaining, ACC_PER_UNIT * INDEX_SCALE * v.span * v.span * _epochLength
        );
        return uint128(Math.min(value, type(uint128).max));
    }

    // ---------------------------------------------------------------- reads

    /// @inheritdoc INavOracle
    function latestPrice() external view returns (uint256 pricePerShare, uint64 epoch, bool stale) {
        NavRound storage r = _latest();
        return (r.pricePerShare, r.epoch, _isStale(r.epoch));
    }

    /// @inheritdoc INavOracle
    function lendingPrice() external view returns (uint256 price_, uint64 epoch, bool stale, bool seasoned) {
        NavRound storage r = _latest();
        return (r.lendingPrice, r.epoch, _isStale(r.epoch), r.fullWindows >= _trackRecordWindows);
    }

    /// @dev The lending price integrators read: zero while the feed is young.
    function _integratorPrice(NavRound memory r) private view returns (uint256) {
        return r.fullWindows >= _trackRecordWindows ? r.lendingPrice : 0;
    }

    /// @inheritdoc INavOracle
    function currentEpoch() public view returns (uint64) {
        return uint64((block.timestamp - _genesis) / _epochLength);
    }

    /// @inheritdoc INavOracle
    function isStale() external view returns (bool) {
        uint256 count = _rounds.length;
        return count == 0 || _isStale(_rounds[count - 1].epoch);
    }

    function _epochEnd(uint64 epoch) private view returns (uint256) {
        return uint256(_genesis) + (uint256(epoch) + 1) * _epochLength;
    }

    /// @dev The first moment a round of `epoch` is stale.
    function _staleAt(uint64 epoch) private view returns (uint256) {
        return uint256(_genesis) + (uint256(epoch) + _staleAfterEpochs + 1) * _epochLength;
    }

    function _isStale(uint64 epoch) private view returns (bool) {
        return currentEpoch() > uint256(epoch) + _staleAfterEpochs;
    }

    /// @inheritdoc IOracle
    /// @dev The lending price (0 while young). Shares have 18 decimals, so the price of one share unit in
    ///      stablecoin units x 1e36 is the price per whole share x 1e18. It does not revert when stale
    ///      (Morpho Blue would then be unable to liquidate); read `isStale()` for that.
    function price() external view returns (uint256) {
        return _integratorPrice(_latest()) * 1e18;
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _roundData(uint80(_rounds.length));
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId_)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _roundData(roundId_);
    }

    /// @dev The answer is the lending price (0 while young); startedAt is the end of the valued epoch (when
    ///      its data was complete), updatedAt the time it finalized.
    function _roundData(uint80 roundId) private view returns (uint80, int256, uint256, uint256, uint80) {
        NavRound memory r = roundAt(roundId);
        uint256 epochEnd = _epochEnd(r.epoch);
        return (roundId, int256(_integratorPrice(r)), epochEnd, r.updatedAt, roundId);
    }

    /// @inheritdoc INavOracle
    function roundAt(uint80 roundId) public view returns (NavRound memory) {
        uint256 count = _rounds.length;
        if (count == 0) revert NavNoRounds(assetId);
        if (roundId == 0 || roundId > count) revert NavUnknownRound(roundId, count);
        return _rounds[roundId - 1];
    }

    function _latest() private view returns (NavRound storage) {
        uint256 count = _rounds.length;
        if (count == 0) revert NavNoRounds(assetId);
        return _rounds[count - 1];
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc INavOracle
    function params() external view returns (NavParams memory) {
        return NavParams({
            windowEpochs: _windowEpochs,
            staleAfterEpochs: _staleAfterEpochs,
            depreciationEnd: _depreciationEnd,
            lendingLifeWindows: _lendingLifeWindows,
            trackRecordWindows: _trackRecordWindows
        });
    }

    /// @inheritdoc INavOracle
    function roundCount() external view returns (uint256) {
        return _rounds.length;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(AggregatorV3Interface).interfaceId
            || interfaceId == type(IOracle).interfaceId || interfaceId == type(INavOracle).interfaceId;
    }
}
