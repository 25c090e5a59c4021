// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {SignatureLib} from "../../../contracts/libraries/SignatureLib.sol";
import {Test} from "../utils/Test.sol";

/// @notice Every encoding of a genuine signature recovers its signer; anything else recovers nobody.
contract SignatureLibTest is Test {
    uint256 private constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function recoverAt(bytes32 digest, bytes calldata sigs, uint256 i) external pure returns (address) {
        return SignatureLib.recover(digest, sigs, i);
    }

    function testFuzz_everyEncodingRecoversTheSigner(uint256 key, bytes32 digest) public view {
        key = bound(key, 1, N - 1);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        address signer = vm.addr(key);
        bytes memory packed = abi.encodePacked(r, s, v, r, s, v - 27);
        assertEq(this.recoverAt(digest, packed, 0), signer, "v as 27/28");
        assertEq(this.recoverAt(digest, packed, 1), signer, "v as 0/1, the second of two packed signatures");
        // the twin (r, n - s) with the other v is the same signature of the same key
        bytes memory twin = abi.encodePacked(r, bytes32(N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        assertEq(this.recoverAt(digest, twin, 0), signer, "the high-s twin");
    }

    function test_invalidSignatureRecoversNobody() public view {
        bytes memory bad = abi.encodePacked(bytes32(uint256(1)), bytes32(uint256(2)), uint8(29));
        assertEq(this.recoverAt(keccak256("x"), bad, 0), address(0), "v other than 27 or 28");
        assertEq(SignatureLib.LENGTH, 65, "r, s and v");
    }
}
