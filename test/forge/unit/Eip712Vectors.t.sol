// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {Observation, Report} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice The observation and report digests and signatures eth-account produced
///         (tests/vectors/report_eip712.json) are exactly what the contract computes and recovers. pytest checks
///         the same file from Python.
contract Eip712VectorsTest is Fixture {
    string internal json;
    MetricsOracle internal vectorOracle;
    address internal signer;

    function setUp() public override {
        super.setUp();
        json = vm.readFile("tests/vectors/report_eip712.json");
        address at = vm.parseJsonAddress(json, ".verifyingContract");
        vm.chainId(vm.parseJsonUint(json, ".chainId"));
        // the oracle's code at the vector's address: EIP712 rebuilds its domain for this address and chain
        vm.etch(at, address(oracle).code);
        vectorOracle = MetricsOracle(at);
        signer = vm.parseJsonAddress(json, ".signer");
    }

    function test_vectors_TypeHashesMatch() public view {
        assertEq(oracle.OBSERVATION_TYPEHASH(), vm.parseJsonBytes32(json, ".typeHashes.Observation"), "Observation");
        assertEq(
            oracle.SIGNED_OBSERVATION_TYPEHASH(),
            vm.parseJsonBytes32(json, ".typeHashes.SignedObservation"),
            "SignedObservation"
        );
        assertEq(oracle.REPORT_TYPEHASH(), vm.parseJsonBytes32(json, ".typeHashes.Report"), "Report");
    }

    function test_vectors_ObservationDigestsAndSigners() public view {
        for (uint256 i; i < 3; ++i) {
            string memory c = string.concat(".observations[", vm.toString(i), "]");
            string memory claim = string.concat(c, ".claim");
            bytes32 d = vectorOracle.hashObservation(
                vm.parseJsonUint(json, string.concat(claim, ".assetId")),
                uint64(vm.parseJsonUint(json, string.concat(claim, ".epoch"))),
                vm.parseJsonBytes32(json, string.concat(claim, ".gridEventId")),
                _observation(string.concat(claim, ".observation"))
            );
            assertEq(d, vm.parseJsonBytes32(json, string.concat(c, ".digest")), "observation digest");
            assertEq(ECDSA.recover(d, vm.parseJsonBytes(json, string.concat(c, ".signature"))), signer, "signer");
        }
    }

    function test_vectors_ReportDigestsAndSigners() public view {
        for (uint256 i; i < 2; ++i) {
            string memory c = string.concat(".reports[", vm.toString(i), "]");
            string memory k = string.concat(c, ".report");
            uint256 n = vm.parseJsonUint(json, string.concat(c, ".observationCount"));
            Report memory r;
            r.assetId = vm.parseJsonUint(json, string.concat(k, ".assetId"));
            r.epoch = uint64(vm.parseJsonUint(json, string.concat(k, ".epoch")));
            r.gridEventId = vm.parseJsonBytes32(json, string.concat(k, ".gridEventId"));
            r.observationSignatures = vm.parseJsonBytes(json, string.concat(k, ".observationSignatures"));
            Observation[] memory obs = new Observation[](n);
            for (uint256 j; j < n; ++j) {
                obs[j] = _observation(string.concat(k, ".observations[", vm.toString(j), "]"));
            }
            r.observations = _pack(obs);
            bytes32 d = vectorOracle.hashReport(r);
            assertEq(d, vm.parseJsonBytes32(json, string.concat(c, ".digest")), "report digest");
            assertEq(ECDSA.recover(d, vm.parseJsonBytes(json, string.concat(c, ".signature"))), signer, "co-signer");
        }
    }

    function _observation(string memory k) internal view returns (Observation memory o) {
        o.observer = uint8(vm.parseJsonUint(json, string.concat(k, ".observer")));
        o.uptimeBps = uint32(vm.parseJsonUint(json, string.concat(k, ".uptimeBps")));
        o.curtailedBps = uint32(vm.parseJsonUint(json, string.concat(k, ".curtailedBps")));
        o.gpuEnergyWh = uint64(vm.parseJsonUint(json, string.concat(k, ".gpuEnergyWh")));
        o.facilityEnergyWh = uint64(vm.parseJsonUint(json, string.concat(k, ".facilityEnergyWh")));
        o.miningEnergyWh = uint64(vm.parseJsonUint(json, string.concat(k, ".miningEnergyWh")));
        o.miningRevenue = uint64(vm.parseJsonUint(json, string.concat(k, ".miningRevenue")));
        o.renewableBps = uint32(vm.parseJsonUint(json, string.concat(k, ".renewableBps")));
        o.carbonGramsPerKwh = uint32(vm.parseJsonUint(json, string.concat(k, ".carbonGramsPerKwh")));
        o.evidenceHash = vm.parseJsonBytes32(json, string.concat(k, ".evidenceHash"));
    }
}
