// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

// Reference contracts for `make bench`: OpenZeppelin's standard tokens, compiled with the protocol's own
// settings, so each protocol action's gas sits beside the cost of the operation integrators know.

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

contract AnchorERC20 is ERC20 {
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

contract AnchorERC721 is ERC721 {
    constructor() ERC721("Anchor NFT", "ANFT") {}

    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}

contract AnchorERC4626 is ERC4626 {
    constructor(IERC20 asset_) ERC20("Anchor Vault", "AVLT") ERC4626(asset_) {}
}
