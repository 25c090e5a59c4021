"""Deploying the protocol to any JSON-RPC network and writing its deployment record."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from pydantic import BaseModel, Field
from web3 import Web3

from wellhead.chain.client import deploy_contract, send
from wellhead.chain.deployment import DeployedContract, Deployment
from wellhead.chain.stablecoin import StablecoinInfo, inspect_stablecoin
from wellhead.core.errors import InsufficientFundsError

USDC = 10**6  # one whole coin of the devnet's 6-decimal test stablecoin
MIN_DEPLOYER_WEI = 10**16  # enough for the 10 contracts at devnet/L2 gas prices


def _coins(value: int | None, default_coins: int, unit: int) -> int:
    """An amount in base units: as given, or `default_coins` whole coins of the deployment's stablecoin."""
    return value if value is not None else default_coins * unit


class ProtocolParams(BaseModel):
    """Governance parameters at deployment (see ICapacityRegistry.ProtocolParams)."""

    treasury: str
    protocol_fee_bps: int = Field(default=500, ge=0, le=2_000)
    # amounts in the stablecoin's base units; left out: 1,000 / 100 / 500 whole coins at its decimals
    min_bond: int | None = Field(default=None, ge=0)
    challenge_bond: int | None = Field(default=None, ge=0)
    challenge_window: int = Field(default=600, gt=0)
    report_deadline: int = Field(default=1_800, gt=0)
    fraud_slash_bps: int = Field(default=5_000, ge=0, le=10_000)
    # below 100 %: a party at fault that challenges itself through another address still loses the rest
    challenger_reward_bps: int = Field(default=2_000, ge=0, lt=10_000)
    attestor_slash_bps: int = Field(default=5_000, ge=0, le=10_000)
    min_attestor_stake: int | None = Field(default=None, ge=0, lt=2**128)
    grid_event_horizon: int = Field(default=86_400, gt=0, le=7 * 86_400)
    # the arbiter's time to rule on a challenge; after it anyone may expire the dispute (the report stands)
    dispute_deadline: int = Field(default=3 * 86_400, gt=0, le=30 * 86_400)

    def as_tuple(self, unit: int = USDC) -> tuple[object, ...]:
        """ICapacityRegistry.ProtocolParams, the amounts left out as whole coins of `unit` base units."""
        return (
            Web3.to_checksum_address(self.treasury),
            self.protocol_fee_bps,
            _coins(self.min_bond, 1_000, unit),
            _coins(self.challenge_bond, 100, unit),
            self.challenge_window,
            self.report_deadline,
            self.fraud_slash_bps,
            self.challenger_reward_bps,
            self.attestor_slash_bps,
            _coins(self.min_attestor_stake, 500, unit),
            self.grid_event_horizon,
            self.dispute_deadline,
        )


class CreditParams(BaseModel):
    """The CreditMarket's lending terms at deployment (see ICreditMarket.RateCurve)."""

    base_rate_bps: int = Field(default=200, ge=0, le=10_000)
    kink_bps: int = Field(default=8_000, gt=0, lt=10_000)
    slope1_bps: int = Field(default=1_000, ge=0, le=100_000)
    slope2_bps: int = Field(default=10_000, ge=0, le=1_000_000)
    min_debt: int | None = Field(default=None, ge=0)  # left out: 10 whole coins
    vault_name: str = "Wellhead Credit USDC"
    vault_symbol: str = "wcUSDC"

    def curve(self) -> tuple[int, int, int, int]:
        return (self.base_rate_bps, self.kink_bps, self.slope1_bps, self.slope2_bps)

    def constructor_args(self, admin: str, registry: str, nav_factory: str, unit: int = USDC) -> tuple[object, ...]:
        """CreditMarket's constructor arguments, in order."""
        min_debt = _coins(self.min_debt, 10, unit)
        return (admin, registry, nav_factory, self.curve(), min_debt, self.vault_name, self.vault_symbol)


class BtcParams(BaseModel):
    """The BTC market at deployment (see IBtcCreditMarket): wrapped BTC lent against on a Chainlink BTC / USD
    feed. On a devnet (no addresses given) a test WBTC and a test aggregator at `devnet_price` are deployed."""

    collateral: str | None = None  # wrapped BTC (WBTC, cbBTC, tBTC)
    price_feed: str | None = None  # Chainlink BTC / USD
    sequencer_feed: str | None = None  # Chainlink L2 sequencer uptime; none on L1
    heartbeat: int = Field(default=3_600, ge=60, le=2 * 86_400)  # BTC / USD's on Ethereum: one hour
    ltv_bps: int = Field(default=7_000, gt=0, lt=10_000)
    liquidation_threshold_bps: int = Field(default=8_000, gt=0, lt=10_000)
    liquidation_bonus_bps: int = Field(default=500, gt=0, le=2_000)
    close_factor_bps: int = Field(default=5_000, ge=1_000, le=10_000)
    borrow_cap: int | None = Field(default=None, ge=0, lt=2**128)  # left out: 5,000,000 whole coins
    supply_cap: int = Field(default=500 * 10**8, ge=0, lt=2**128)  # 500 BTC
    min_debt: int | None = Field(default=None, ge=0)  # left out: 100 whole coins
    devnet_price: int = Field(default=60_000 * 10**8, gt=0)  # the test feed's first answer, 8 decimals
    vault_name: str = "Wellhead BTC Credit USDC"
    vault_symbol: str = "wbUSDC"

    def terms(
        self,
        coin: StablecoinInfo,
        collateral: str,
        feed: str,
        curve: tuple[int, int, int, int],
    ) -> tuple[object, ...]:
        """BtcCreditMarket.Terms, in order."""
        stablecoin, unit = coin.address, coin.unit
        return (
            Web3.to_checksum_address(stablecoin),
            Web3.to_checksum_address(collateral),
            Web3.to_checksum_address(feed),
            Web3.to_checksum_address(self.sequencer_feed or "0x" + "00" * 20),
            self.heartbeat,
            (self.ltv_bps, self.liquidation_threshold_bps, self.liquidation_bonus_bps, self.close_factor_bps),
            (_coins(self.borrow_cap, 5_000_000, unit), self.supply_cap),
            curve,
            _coins(self.min_debt, 100, unit),
            coin.blocklist.as_tuple(),
        )


def git_commit(root: Path | None = None) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def deploy_protocol(
    w3: Web3,
    deployer: LocalAccount,
    network: str,
    params: ProtocolParams,
    stablecoin: str | None = None,
    credit: CreditParams | None = None,
    btc: BtcParams | None = None,
    blocklist_signature: str | None = "detect",
) -> Deployment:
    """Deploys stablecoin (devnets only, when none is given), shares factory, registry, grid ledger, oracle, market,
    the NAV feed factory, the credit market and the BTC market (with a test WBTC and BTC / USD feed on a
    devnet; on another network only when `btc` names the collateral and the feed).

    A given stablecoin must have code and 2 to 18 decimals (ConfigError otherwise); every default amount is
    in whole coins at its decimals. The issuer's blocklist is found among the known signatures
    (`blocklist_signature="detect"`), named, or left out (None).

    The deployer becomes the registry's admin, governor, arbiter and pauser; hand those roles to a
    multisig with AccessControl's grantRole/renounceRole once the deployment is checked.
    """
    coin = inspect_stablecoin(w3, stablecoin, blocklist_signature) if stablecoin is not None else None
    balance = w3.eth.get_balance(deployer.address)
    if balance < MIN_DEPLOYER_WEI:
        raise InsufficientFundsError(
            f"deployer {deployer.address} holds {balance} wei on chain {w3.eth.chain_id}; "
            f"it needs at least {MIN_DEPLOYER_WEI} wei to deploy"
        )
    admin = deployer.address
    records: dict[str, DeployedContract] = {}

    def record(name: str, address: str, receipt: dict[str, Any]) -> None:
        records[name] = DeployedContract(
            address=address,
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block=int(receipt["blockNumber"]),
        )

    if stablecoin is None:
        test_coin, receipt = deploy_contract(w3, deployer, "TestStablecoin", admin)
        stablecoin = test_coin.address
        record("Stablecoin", test_coin.address, dict(receipt))
        coin = inspect_stablecoin(w3, stablecoin)
    else:
        records["Stablecoin"] = DeployedContract(address=Web3.to_checksum_address(stablecoin), tx_hash="", block=0)
    assert coin is not None
    factory, receipt = deploy_contract(w3, deployer, "CapacitySharesFactory")
    record("CapacitySharesFactory", factory.address, dict(receipt))
    registry, receipt = deploy_contract(
        w3,
        deployer,
        "CapacityRegistry",
        admin,
        coin.address,
        factory.address,
        params.as_tuple(coin.unit),
        coin.blocklist.as_tuple(),
    )
    record("CapacityRegistry", registry.address, dict(receipt))
    grid, receipt = deploy_contract(w3, deployer, "GridLedger", registry.address)
    record("GridLedger", grid.address, dict(receipt))
    oracle, receipt = deploy_contract(w3, deployer, "MetricsOracle", registry.address, grid.address)
    record("MetricsOracle", oracle.address, dict(receipt))
    market, receipt = deploy_contract(w3, deployer, "LeaseMarket", registry.address, oracle.address)
    record("LeaseMarket", market.address, dict(receipt))
    send(w3, deployer, registry.functions.wire(market.address, oracle.address))
    router, receipt = deploy_contract(w3, deployer, "PaymentRouter", registry.address)
    record("PaymentRouter", router.address, dict(receipt))
    nav_factory, receipt = deploy_contract(w3, deployer, "NavOracleFactory", registry.address)
    record("NavOracleFactory", nav_factory.address, dict(receipt))
    terms = credit or CreditParams()
    credit_market, receipt = deploy_contract(
        w3,
        deployer,
        "CreditMarket",
        *terms.constructor_args(admin, registry.address, nav_factory.address, coin.unit),
    )
    record("CreditMarket", credit_market.address, dict(receipt))
    btc_terms = btc or BtcParams()
    devnet = records["Stablecoin"].block != 0
    collateral, feed = btc_terms.collateral, btc_terms.price_feed
    if devnet and collateral is None:
        wbtc, receipt = deploy_contract(w3, deployer, "TestWrappedBtc", admin)
        record("WrappedBtc", wbtc.address, dict(receipt))
        collateral = wbtc.address
    if devnet and feed is None:
        aggregator, receipt = deploy_contract(
            w3, deployer, "TestAggregator", admin, 8, "BTC / USD", btc_terms.devnet_price
        )
        record("BtcUsdFeed", aggregator.address, dict(receipt))
        feed = aggregator.address
    if collateral is not None and feed is not None:
        btc_market, receipt = deploy_contract(
            w3,
            deployer,
            "BtcCreditMarket",
            admin,
            btc_terms.terms(coin, collateral, feed, terms.curve()),
            btc_terms.vault_name,
            btc_terms.vault_symbol,
        )
        record("BtcCreditMarket", btc_market.address, dict(receipt))

    first_block = min(r.block for r in records.values() if r.block)
    return Deployment(
        network=network,
        chain_id=w3.eth.chain_id,
        deployer=deployer.address,
        git_commit=git_commit(),
        block=first_block,
        contracts=records,
    )
