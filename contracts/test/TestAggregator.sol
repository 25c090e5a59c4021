// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";

/// @title TestAggregator
/// @notice The devnet's Chainlink feed: the real `AggregatorV3Interface`, with rounds its owner posts.
///         Serves as a BTC / USD price feed (8 decimals) and as an L2 sequencer-uptime feed (answer 0 up,
///         1 down; `startedAt` is when the status began), as Chainlink's own feeds do.
contract TestAggregator is AggregatorV3Interface, Ownable {
    error TestAggregatorUnknownRound(uint80 roundId);

    struct Round {
        int256 answer;
        uint64 startedAt;
        uint64 updatedAt;
    }

    uint8 public immutable override decimals;
    string private _description;
    Round[] private _rounds;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    constructor(address owner_, uint8 decimals_, string memory description_, int256 initial) Ownable(owner_) {
        decimals = decimals_;
        _description = description_;
        _post(initial, block.timestamp, block.timestamp);
    }

    /// @notice Posts a new round updated now (a new status starting now, for a sequencer feed).
    function setAnswer(int256 answer) external onlyOwner {
        _post(answer, block.timestamp, block.timestamp);
    }

    /// @notice Posts a round with explicit times (tests of staleness and grace periods).
    function setRound(int256 answer, uint256 startedAt, uint256 updatedAt) external onlyOwner {
        _post(answer, startedAt, updatedAt);
    }

    function _post(int256 answer, uint256 startedAt, uint256 updatedAt) private {
        _rounds.push(Round({answer: answer, startedAt: uint64(startedAt), updatedAt: uint64(updatedAt)}));
        emit AnswerUpdated(answer, _rounds.length, updatedAt);
    }

    function description() external view returns (string memory) {
        return _description;
    }

    function version() external pure returns (uint256) {
        return 4;
    }

    function getRoundData(uint80 roundId)
        public
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        // slither-disable-next-line incorrect-equality (a round id, not a balance)
        if (roundId == 0 || roundId > _rounds.length) revert TestAggregatorUnknownRound(roundId);
        Round memory r = _rounds[roundId - 1];
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(uint80(_rounds.length));
    }
}
