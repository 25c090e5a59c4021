// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {AssetTerms, ICapacityRegistry} from "../interfaces/ICapacityRegistry.sol";
import {IERC4907} from "../interfaces/IERC4907.sol";
import {IGridLedger} from "../interfaces/IGridLedger.sol";
import {AssetLedger, EpochIndex, ILeaseMarket, Lease} from "../interfaces/ILeaseMarket.sol";
import {IMetricsOracle} from "../interfaces/IMetricsOracle.sol";
import {ScheduleLib} from "../libraries/ScheduleLib.sol";

/// @title LeaseMarketBase
/// @notice The LeaseMarket's state, its lease positions as ERC-721 tokens with ERC-4907 users, and the reads of
///         that state. The market's two halves build on it: {LeasePayouts} (who is owed what) and
///         {LeaseMarket} (leases and settlement).
abstract contract LeaseMarketBase is ILeaseMarket, ERC721 {
    /// @notice The smallest energy-income deposit: a hundredth of one coin, whatever the decimals.
    uint256 public immutable minEnergyIncome;

    /// @dev Cumulative energy income of an asset: what was paid in, and what of it went to the holders.
    struct EnergyIncome {
        uint128 total;
        uint128 holders;
    }

    struct UserInfo {
        address user;
        uint64 expires;
    }

    ICapacityRegistry public immutable registry;
    IMetricsOracle public immutable oracle;
    IGridLedger public immutable gridLedger;
    IERC20 public immutable stablecoin;

    uint256 public override protocolFees;
    mapping(uint256 leaseId => UserInfo) internal _users;
    mapping(uint256 assetId => AssetLedger) internal _ledgers;
    mapping(uint256 assetId => address) internal _shares;
    mapping(uint256 assetId => mapping(uint64 epoch => ScheduleLib.Bucket)) internal _buckets;
    mapping(address account => uint256) internal _fees;
    mapping(uint256 assetId => EnergyIncome) internal _energyIncome;
    /// @dev Every stablecoin unit this contract owes: escrow, holders' revenue and fees (taken in, not yet
    ///      paid out). Settlement only moves value between them; what is held above it was sent by mistake.
    uint256 internal _owed;

    constructor(ICapacityRegistry registry_, IMetricsOracle oracle_) ERC721("Wellhead GPU Lease", "WHLEASE") {
        registry = registry_;
        oracle = oracle_;
        gridLedger = oracle_.gridLedger();
        stablecoin = IERC20(registry_.stablecoin());
        minEnergyIncome = registry_.wholeCoin() / 100;
    }

    // ---------------------------------------------------------------- ERC-4907

    /// @inheritdoc IERC4907
    function setUser(uint256 tokenId, address user, uint64 expires) external {
        // a frozen lessee cannot hand the lease's use (paid from its escrow) to another address either
        _requireNotFrozen(_requireLeaseOwner(tokenId));
        _users[tokenId] = UserInfo({user: user, expires: expires});
        emit UpdateUser(tokenId, user, expires);
    }

    /// @inheritdoc IERC4907
    function userOf(uint256 tokenId) external view returns (address) {
        UserInfo memory u = _users[tokenId];
        return u.expires >= block.timestamp ? u.user : address(0);
    }

    /// @inheritdoc IERC4907
    function userExpires(uint256 tokenId) external view returns (uint256) {
        return _users[tokenId].expires;
    }

    /// @dev A transfer of the position clears its user (ERC-4907). Neither side of a transfer may be frozen
    ///      by the issuer (a frozen lessee would hand its escrow to a fresh address).
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0)) {
            _requireNotFrozen(from);
            _requireNotFrozen(to);
        }
        if (from != to && _users[tokenId].user != address(0)) {
            delete _users[tokenId];
            emit UpdateUser(tokenId, address(0), 0);
        }
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IERC4907).interfaceId || interfaceId == type(ILeaseMarket).interfaceId
            || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- views

    function ledgerOf(uint256 assetId) external view returns (AssetLedger memory) {
        return _ledgers[assetId];
    }

    function feesOf(address account) external view returns (uint256) {
        return _fees[account];
    }

    /// @inheritdoc ILeaseMarket
    function owed() external view returns (uint256) {
        return _owed;
    }

    /// @inheritdoc ILeaseMarket
    function energyIncomeOf(uint256 assetId) external view returns (uint256 total, uint256 holders) {
        EnergyIncome memory income = _energyIncome[assetId];
        return (income.total, income.holders);
    }

    /// @dev The registry reads the issuer's blocklist (this contract is at the code-size limit).
    function _requireNotFrozen(address account) internal view {
        if (registry.isFrozen(account)) revert StablecoinAccountFrozen(account);
    }

    function _currentEpoch(AssetTerms memory t) internal view returns (uint64) {
        return uint64((block.timestamp - t.genesis) / t.epochLength);
    }

    function _requireLeaseOwner(uint256 leaseId) internal view returns (address owner) {
        owner = _ownerOf(leaseId);
        if (owner == address(0) || !_isAuthorized(owner, msg.sender, leaseId)) {
            revert MarketNotLeaseOwner(leaseId, msg.sender);
        }
    }
}
