// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ICapacityRegistry} from "./interfaces/ICapacityRegistry.sol";
import {ICapacityShares} from "./interfaces/ICapacityShares.sol";
import {ILeaseMarket, LeaseClass} from "./interfaces/ILeaseMarket.sol";
import {IPaymentRouter, Payment, PaymentKind} from "./interfaces/IPaymentRouter.sol";
import {StablecoinLib} from "./libraries/StablecoinLib.sol";

/// @notice EIP-3009's receiving half, as USDC (FiatToken v2) implements it.
interface IERC3009 {
    function receiveWithAuthorization(
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

/// @title PaymentRouter
/// @notice See {IPaymentRouter}. Holds nothing between calls: each call takes the payer's signed payment,
///         approves the target for it, acts, withdraws the approval and returns what was not used.
/// @dev `receiveWithAuthorization` (not `transferWithAuthorization`) so nobody can front-run the signed
///      transfer into the router outside this call; the token itself checks signer, value, window and nonce.
contract PaymentRouter is IPaymentRouter, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    ICapacityRegistry public immutable registry;
    ILeaseMarket public immutable market;
    IERC20 public immutable stablecoin;

    constructor(ICapacityRegistry registry_) {
        registry = registry_;
        market = ILeaseMarket(registry_.leaseMarket());
        stablecoin = IERC20(registry_.stablecoin());
    }

    /// @inheritdoc IPaymentRouter
    function openLease(
        Payment calldata payment,
        uint256 assetId,
        uint32 gpus,
        uint64 epochs,
        LeaseClass class,
        uint256 maxPricePerGpuHour
    ) external nonReentrant returns (uint256 leaseId) {
        uint256 before = _take(payment, address(market));
        leaseId = market.openLeaseFor(msg.sender, assetId, gpus, epochs, class, maxPricePerGpuHour);
        _finish(payment, address(market), before);
    }

    /// @inheritdoc IPaymentRouter
    function extendLease(Payment calldata payment, uint256 leaseId, uint64 epochs)
        external
        nonReentrant
        returns (uint256 paid)
    {
        uint256 before = _take(payment, address(market));
        paid = market.extendLease(leaseId, epochs);
        _finish(payment, address(market), before);
    }

    /// @inheritdoc IPaymentRouter
    function buyShares(Payment calldata payment, address shares, uint256 amount, uint256 maxPricePerShare)
        external
        nonReentrant
        returns (uint256 cost)
    {
        // only an asset's own shares (the registry's record): the approval never goes to a stranger
        uint256 assetId = ICapacityShares(shares).assetId();
        if (registry.terms(assetId).shares != shares) revert PaymentUnknownShares(shares);
        uint256 before = _take(payment, shares);
        cost = ICapacityShares(shares).buyFor(msg.sender, amount, maxPricePerShare);
        _finish(payment, shares, before);
    }

    /// @inheritdoc IPaymentRouter
    function supply(Payment calldata payment, address vault, uint256 assets)
        external
        nonReentrant
        returns (uint256 vaultShares)
    {
        address asset = IERC4626(vault).asset();
        if (asset != address(stablecoin)) revert PaymentWrongVault(vault, asset);
        uint256 before = _take(payment, vault);
        vaultShares = IERC4626(vault).deposit(assets, msg.sender);
        _finish(payment, vault, before);
    }

    /// @dev Takes the payment from the caller and lets `target` pull it.
    /// @return before what the router held before (nothing, unless someone sent it tokens by mistake)
    // slither-disable-next-line reentrancy-balance (measures what the token delivered; every entry is nonReentrant)
    function _take(Payment calldata p, address target) private returns (uint256 before) {
        IERC20 token = stablecoin;
        before = token.balanceOf(address(this));
        if (p.kind == PaymentKind.Permit) {
            if (block.timestamp > p.deadline) revert PaymentNotValidNow(0, p.deadline, block.timestamp);
            // a permit someone else submitted first (front-running it) still leaves the allowance
            try IERC20Permit(address(token)).permit(msg.sender, address(this), p.value, p.deadline, p.v, p.r, p.s) {}
            catch {
                if (token.allowance(msg.sender, address(this)) < p.value) {
                    revert PaymentPermitRejected(msg.sender, p.value, p.deadline);
                }
            }
            StablecoinLib.pullExact(token, msg.sender, p.value);
        } else {
            if (block.timestamp <= p.validAfter || block.timestamp >= p.deadline) {
                revert PaymentNotValidNow(p.validAfter, p.deadline, block.timestamp);
            }
            try IERC3009(address(token))
                .receiveWithAuthorization(
                    msg.sender, address(this), p.value, p.validAfter, p.deadline, p.nonce, p.v, p.r, p.s
                ) {}
            catch {
                revert PaymentAuthorizationRejected(msg.sender, p.value, p.nonce);
            }
            uint256 received = token.balanceOf(address(this)) - before;
            if (received != p.value) revert TokenTransferShort(address(token), p.value, received);
        }
        token.forceApprove(target, p.value);
    }

    /// @dev Withdraws the approval and returns to the payer what the action did not use.
    function _finish(Payment calldata p, address target, uint256 before) private {
        IERC20 token = stablecoin;
        token.forceApprove(target, 0);
        uint256 unused = token.balanceOf(address(this)) - before;
        emit PaymentRouted(msg.sender, target, p.kind, p.value, unused);
        if (unused != 0) token.safeTransfer(msg.sender, unused);
    }
}
