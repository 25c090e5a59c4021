// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {BtcCreditMarket} from "../../../contracts/BtcCreditMarket.sol";
import {AggregatorV3Interface} from "../../../contracts/interfaces/AggregatorV3Interface.sol";
import {Caps, CollateralParams, RateCurve} from "../../../contracts/interfaces/ILendingPool.sol";
import {Blocklist, IStablecoinGuard} from "../../../contracts/interfaces/IStablecoinGuard.sol";
import {TestAggregator} from "../../../contracts/test/TestAggregator.sol";
import {TestFeeToken} from "../../../contracts/test/TestFeeToken.sol";
import {CreditFixture} from "../utils/CreditFixture.sol";

/// @notice Loans under the stablecoin as it behaves: frozen borrowers and lenders, a frozen LeaseMarket, and
///         tokens the vault's accounting cannot carry.
contract CreditStablecoinTest is CreditFixture {
    address internal fresh = address(0xF4E5);

    function _freeze(address account, bool frozen) internal {
        vm.prank(admin);
        usdc.setBlocklisted(account, frozen);
    }

    function _frozen(address account) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IStablecoinGuard.StablecoinAccountFrozen.selector, account);
    }

    function _loan() internal {
        earn(1_000, SEASONED + NAV_WINDOW);
        depositCollateral(100e18);
        borrow(credit.borrowCapacity(assetId, borrower) / 2);
    }

    function test_frozenBorrower_CannotBorrowWithdrawOrClaimToAFreshAddress() public {
        _loan();
        _freeze(borrower, true);
        vm.startPrank(borrower);
        vm.expectRevert(_frozen(borrower));
        credit.borrow(assetId, MIN_DEBT, fresh);
        vm.expectRevert(_frozen(borrower));
        credit.withdrawCollateral(assetId, 1e18, fresh);
        vm.expectRevert(_frozen(borrower));
        credit.claimSurplus(assetId, fresh);
        vm.stopPrank();
        // anyone may still repay its debt for it (value comes in, nothing leaves)
        vm.prank(liquidator);
        credit.repay(assetId, MIN_DEBT, borrower);
        _freeze(borrower, false);
        vm.prank(borrower);
        credit.borrow(assetId, MIN_DEBT, borrower);
    }

    function test_frozenLender_CannotWithdrawOrMoveVaultShares() public {
        _freeze(lender, true);
        vm.startPrank(lender);
        vm.expectRevert(_frozen(lender));
        credit.withdraw(1 * USDC, fresh, lender);
        vm.expectRevert(_frozen(lender));
        credit.redeem(1e6, fresh, lender);
        vm.expectRevert(_frozen(lender));
        credit.transfer(fresh, 1e6);
        vm.stopPrank();
        _freeze(lender, false);
        vm.prank(lender);
        credit.withdraw(1 * USDC, lender, lender);
    }

    function test_frozenLeaseMarket_LoansRepaySettleAndLiquidateWithoutIt() public {
        earn(1_000, SEASONED + NAV_WINDOW);
        depositCollateral(100e18);
        borrow(credit.borrowCapacity(assetId, borrower));
        runEpochs(1, 10_000); // revenue owed to the credit market's collateral, not collected yet
        uint256 pending = shares.claimable(address(credit));
        assertGt(pending, 0, "collateral revenue pending");
        _freeze(address(market), true);
        // the revenue cannot arrive, and loans go on without it
        vm.prank(borrower);
        credit.repay(assetId, MIN_DEBT, borrower);
        credit.settle(assetId, borrower);
        assertEq(shares.claimable(address(credit)), pending, "still owed to the market, nothing lost");
        // a shortfall (settled while the LeaseMarket is frozen) makes it liquidatable, and liquidation does
        // not wait for the LeaseMarket either
        runEpochs(NAV_WINDOW + 3, 0);
        assertLt(credit.healthFactor(assetId, borrower), 1e18, "unhealthy");
        vm.prank(liquidator);
        uint256 seized = credit.liquidate(assetId, borrower, type(uint256).max, liquidator);
        assertGt(seized, 0, "liquidated while the LeaseMarket is frozen");
        // once unfrozen, the revenue is collected and credited
        _freeze(address(market), false);
        credit.settle(assetId, borrower);
        assertEq(shares.claimable(address(credit)), 0, "collected");
    }

    function test_feeOnTransfer_RefusedByTheVaultRepayAndCollateral() public {
        TestFeeToken coin = new TestFeeToken();
        TestFeeToken wbtc = new TestFeeToken();
        BtcCreditMarket btc = new BtcCreditMarket(
            admin,
            BtcCreditMarket.Terms({
                stablecoin: IERC20(address(coin)),
                collateral: IERC20(address(wbtc)),
                priceFeed: AggregatorV3Interface(address(new TestAggregator(admin, 8, "BTC / USD", 60_000e8))),
                sequencerFeed: AggregatorV3Interface(address(0)),
                heartbeat: 1 hours,
                params: CollateralParams({
                    ltvBps: 7_000, liquidationThresholdBps: 8_000, liquidationBonusBps: 500, closeFactorBps: 5_000
                }),
                caps: Caps({borrowCap: uint128(1_000_000 * USDC), supplyCap: uint128(1_000e6)}),
                curve: RateCurve({baseBps: 200, kinkBps: 8_000, slope1Bps: 1_000, slope2Bps: 10_000}),
                minDebt: 1 * USDC,
                blocklist: Blocklist({target: address(0), selector: bytes4(0)})
            }),
            "fee",
            "fee"
        );
        coin.mint(lender, 1_000 * USDC);
        wbtc.mint(borrower, 1e6);
        vm.startPrank(lender);
        coin.approve(address(btc), type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(IStablecoinGuard.TokenTransferShort.selector, address(coin), 100 * USDC, 99 * USDC)
        );
        btc.deposit(100 * USDC, lender);
        vm.stopPrank();
        vm.startPrank(borrower);
        wbtc.approve(address(btc), type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(IStablecoinGuard.TokenTransferShort.selector, address(wbtc), 1e6, 99e4));
        btc.supplyCollateral(1e6, borrower);
        vm.stopPrank();
        assertEq(btc.totalAssets(), 0, "nothing recorded");
    }
}
