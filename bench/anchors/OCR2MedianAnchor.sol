// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

// Reference for `make bench-gas`: Chainlink OCR2's median feed, so a Wellhead report's gas sits beside the
// transmission of the protocol the field holds up for "no minority can bend the value".
//
// `OCR2Base` (signature checks of the f+1 transmitting oracles, config digest, calldata length) is Chainlink's
// own, from the npm package `@chainlink/contracts` 1.5.0. That package no longer ships `OCR2Aggregator` (the
// median feed, in smartcontractkit/libocr), so its `_report` hot path is rebuilt here as libocr writes it:
// decode the report, check the observation count and order, take the median, store the round in one slot,
// bump the hot variables, credit the transmitter, and emit NewTransmission, AnswerUpdated and NewRound.

import {OCR2Base} from "@chainlink/contracts/src/v0.8/shared/ocr2/OCR2Base.sol";

contract OCR2MedianAnchor is OCR2Base {
    struct HotVars {
        uint40 latestEpochAndRound;
        uint32 latestAggregatorRoundId;
        uint32 maximumGasPriceGwei;
        uint32 reasonableGasPriceGwei;
        uint32 observationPaymentGjuels;
        uint32 transmissionPaymentGjuels;
        uint8 accountingGas;
    }

    struct Transmission {
        int192 answer;
        uint32 observationsTimestamp;
        uint32 transmissionTimestamp;
    }

    event NewTransmission(
        uint32 indexed aggregatorRoundId,
        int192 answer,
        address transmitter,
        uint32 observationsTimestamp,
        int192[] observations,
        bytes observers,
        int192 juelsPerFeeCoin,
        bytes32 configDigest,
        uint40 epochAndRound
    );
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    HotVars internal s_hotVars;
    mapping(uint32 => Transmission) internal s_transmissions;
    mapping(address => uint256) internal s_paymentJuels;

    constructor() OCR2Base(false) {
        s_hotVars = HotVars(0, 0, 1_000, 1, 1, 1, 1);
    }

    function typeAndVersion() external pure override returns (string memory) {
        return "OCR2MedianAnchor 1.0.0";
    }

    function _beforeSetConfig(uint8, bytes memory) internal override {}

    function _afterSetConfig(uint8, bytes memory) internal override {}

    function _validateReport(bytes32, uint40 epochAndRound, bytes memory) internal view override returns (bool) {
        return epochAndRound > s_hotVars.latestEpochAndRound;
    }

    function _report(uint256, address transmitter, uint8, address[MAX_NUM_ORACLES] memory, bytes calldata report)
        internal
        override
    {
        (uint32 observationsTimestamp, bytes32 rawObservers, int192[] memory observations, int192 juelsPerFeeCoin) =
            abi.decode(report, (uint32, bytes32, int192[], int192));
        uint256 n = observations.length;
        require(n <= MAX_NUM_ORACLES && n > 2 * s_configInfo.f, "wrong number of observations");
        for (uint256 i = 1; i < n; ++i) {
            require(observations[i - 1] <= observations[i], "observations not sorted");
        }
        int192 median = observations[n / 2];
        HotVars memory hot = s_hotVars;
        hot.latestAggregatorRoundId++;
        s_transmissions[hot.latestAggregatorRoundId] =
            Transmission(median, observationsTimestamp, uint32(block.timestamp));
        hot.latestEpochAndRound = uint40(uint256(bytes32(msg.data[4 + 32:4 + 64])));
        s_hotVars = hot;
        s_paymentJuels[transmitter] += uint256(hot.transmissionPaymentGjuels) * 1 gwei;
        bytes memory observers = new bytes(n);
        for (uint256 i; i < n; ++i) {
            observers[i] = rawObservers[i];
        }
        emit NewTransmission(
            hot.latestAggregatorRoundId,
            median,
            transmitter,
            observationsTimestamp,
            observations,
            observers,
            juelsPerFeeCoin,
            s_configInfo.latestConfigDigest,
            hot.latestEpochAndRound
        );
        emit NewRound(hot.latestAggregatorRoundId, address(0x0), observationsTimestamp);
        emit AnswerUpdated(median, hot.latestAggregatorRoundId, block.timestamp);
    }
}
