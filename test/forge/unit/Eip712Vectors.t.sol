// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {MetricsOracle} from "../../../contracts/MetricsOracle.sol";
import {Report} from "../../../contracts/interfaces/IMetricsOracle.sol";
import {Fixture} from "../utils/Fixture.sol";

/// @notice The report digests and signatures eth-account produced (tests/vectors/report_eip712.json) are
///         exactly what the contract computes and recovers. pytest checks the same file from Python.
contract Eip712VectorsTest is Fixture {
    function test_vectors_MatchContractDigestAndSigner() public {
        string memory json = vm.readFile("tests/vectors/report_eip712.json");
        assertEq(oracle.REPORT_TYPEHASH(), vm.parseJsonBytes32(json, ".typeHash"), "type hash");
        address at = vm.parseJsonAddress(json, ".verifyingContract");
        vm.chainId(vm.parseJsonUint(json, ".chainId"));
        // the oracle's code at the vector's address: EIP712 rebuilds its domain for this address and chain
        vm.etch(at, address(oracle).code);
        MetricsOracle vectorOracle = MetricsOracle(at);
        address signer = vm.parseJsonAddress(json, ".signer");
        for (uint256 i; i < 3; ++i) {
            string memory c = string.concat(".cases[", vm.toString(i), "]");
            Report memory r = _report(json, string.concat(c, ".report"));
            bytes32 expected = vm.parseJsonBytes32(json, string.concat(c, ".digest"));
            assertEq(vectorOracle.hashReport(r), expected, "digest");
            bytes memory sig = vm.parseJsonBytes(json, string.concat(c, ".signature"));
            assertEq(ECDSA.recover(expected, sig), signer, "signer");
        }
    }

    function _report(string memory json, string memory k) internal pure returns (Report memory r) {
        r.assetId = vm.parseJsonUint(json, string.concat(k, ".assetId"));
        r.epoch = uint64(vm.parseJsonUint(json, string.concat(k, ".epoch")));
        r.uptimeBps = uint32(vm.parseJsonUint(json, string.concat(k, ".uptimeBps")));
        r.curtailedBps = uint32(vm.parseJsonUint(json, string.concat(k, ".curtailedBps")));
        r.gridEventId = vm.parseJsonBytes32(json, string.concat(k, ".gridEventId"));
        r.gpuEnergyWh = uint64(vm.parseJsonUint(json, string.concat(k, ".gpuEnergyWh")));
        r.facilityEnergyWh = uint64(vm.parseJsonUint(json, string.concat(k, ".facilityEnergyWh")));
        r.miningEnergyWh = uint64(vm.parseJsonUint(json, string.concat(k, ".miningEnergyWh")));
        r.miningRevenue = uint64(vm.parseJsonUint(json, string.concat(k, ".miningRevenue")));
        r.renewableBps = uint32(vm.parseJsonUint(json, string.concat(k, ".renewableBps")));
        r.carbonGramsPerKwh = uint32(vm.parseJsonUint(json, string.concat(k, ".carbonGramsPerKwh")));
        r.evidenceHash = vm.parseJsonBytes32(json, string.concat(k, ".evidenceHash"));
    }
}
