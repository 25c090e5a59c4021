"""What governance chooses at deployment: protocol parameters, the credit market's terms, the BTC market's."""

from __future__ import annotations

from pydantic import BaseModel, Field
from web3 import Web3

from wellhead.chain.stablecoin import StablecoinInfo

USDC = 10**6  # one whole coin of the devnet's 6-decimal test stablecoin


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
