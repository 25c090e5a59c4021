// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AssetStatus, AssetTerms, ICapacityRegistry} from "../interfaces/ICapacityRegistry.sol";
import {ICapacityShares} from "../interfaces/ICapacityShares.sol";
import {AssetLedger, ILeaseMarket} from "../interfaces/ILeaseMarket.sol";
import {IMetricsOracle} from "../interfaces/IMetricsOracle.sol";
import {SettlementLib} from "../libraries/SettlementLib.sol";
import {StablecoinLib} from "../libraries/StablecoinLib.sol";
import {LeaseMarketBase} from "./LeaseMarketBase.sol";

/// @title LeasePayouts
/// @notice Who is owed what in the LeaseMarket, and the pulls that pay it: fees to the operator and the
///         treasury, holders' revenue to the shares contract, energy income in, surplus out. Every unit it holds
///         is counted in `_owed`; nothing is pushed.
abstract contract LeasePayouts is LeaseMarketBase {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    constructor(ICapacityRegistry registry_, IMetricsOracle oracle_) LeaseMarketBase(registry_, oracle_) {}

    /// @inheritdoc ILeaseMarket
    function withdrawFees(address to) external returns (uint256 amount) {
        if (to != msg.sender) _requireNotFrozen(msg.sender); // paid to itself, its value stays frozen
        amount = _fees[msg.sender];
        _fees[msg.sender] = 0;
        if (msg.sender == registry.treasury()) {
            amount += protocolFees;
            protocolFees = 0;
        }
        if (amount == 0) revert MarketNothingToClaim(msg.sender);
        _owed -= amount;
        emit FeesWithdrawn(msg.sender, to, amount);
        stablecoin.safeTransfer(to, amount);
    }

    /// @inheritdoc ILeaseMarket
    function depositEnergyIncome(uint256 assetId, uint256 amount, bytes32 reference_) external {
        AssetTerms memory t = registry.terms(assetId);
        if (t.status == AssetStatus.None) revert MarketUnknownAsset(assetId);
        if (msg.sender != t.operator) revert MarketNotOperator(assetId, msg.sender);
        if (reference_ == bytes32(0)) revert MarketZeroReference();
        uint256 min = minEnergyIncome;
        if (amount < min) revert MarketDustAmount(amount, min);
        uint256 eventAsset = gridLedger.eventOf(reference_).assetId;
        if (eventAsset != 0 && eventAsset != assetId) revert MarketEventOfOtherAsset(reference_, eventAsset, assetId);

        _owed += amount;
        (uint256 protocolFee, uint256 operatorFee, uint256 holders) = _splitIncome(assetId, t, amount);
        EnergyIncome storage income = _energyIncome[assetId];
        income.total += amount.toUint128();
        income.holders += holders.toUint128();
        emit EnergyIncomeDeposited(assetId, reference_, msg.sender, amount, protocolFee, operatorFee, holders);
        StablecoinLib.pullExact(stablecoin, msg.sender, amount);
        ICapacityShares(t.shares).distribute(holders);
    }

    /// @dev Income outside settlement (energy, cancellations) split like delivered value: fees, then holders.
    function _splitIncome(uint256 assetId, AssetTerms memory t, uint256 amount)
        internal
        returns (uint256 protocolFee, uint256 operatorFee, uint256 holders)
    {
        (protocolFee, operatorFee, holders) = SettlementLib.splitFees(amount, t.protocolFeeBps, t.operatorFeeBps);
        _ledgers[assetId].holdersRevenue += holders.toUint128();
        if (protocolFee != 0) protocolFees += protocolFee;
        if (operatorFee != 0) _fees[t.operator] += operatorFee;
    }

    /// @dev A cancellation's charge: already held as escrow, now the asset's income.
    function _addIncome(uint256 assetId, AssetTerms memory t, uint256 amount) internal {
        (,, uint256 holders) = _splitIncome(assetId, t, amount);
        if (holders != 0) ICapacityShares(t.shares).distribute(holders);
    }

    /// @inheritdoc ILeaseMarket
    function sweepSurplus() external returns (uint256 amount) {
        uint256 held = stablecoin.balanceOf(address(this));
        uint256 liabilities = _owed;
        amount = held > liabilities ? held - liabilities : 0;
        // slither-disable-next-line incorrect-equality (a difference of two totals, zero when nothing was sent)
        if (amount == 0) revert MarketNothingToSweep(held, liabilities);
        address treasury = registry.treasury();
        emit SurplusSwept(treasury, amount);
        stablecoin.safeTransfer(treasury, amount);
    }

    /// @inheritdoc ILeaseMarket
    function payHolderRevenue(uint256 assetId, address to, uint256 amount) external {
        if (msg.sender != _shares[assetId]) revert MarketOnlyShares(assetId, msg.sender);
        AssetLedger storage ledger = _ledgers[assetId];
        uint256 available = ledger.holdersRevenue;
        if (amount > available) revert MarketInsufficientHolderRevenue(assetId, amount, available);
        // amount <= available
        unchecked {
            ledger.holdersRevenue = uint128(available - amount);
        }
        _owed -= amount;
        stablecoin.safeTransfer(to, amount);
    }

    /// @inheritdoc ILeaseMarket
    function onAssetRegistered(uint256 assetId, address shares) external {
        if (msg.sender != address(registry)) revert MarketOnlyRegistry(msg.sender);
        _shares[assetId] = shares;
    }
}
