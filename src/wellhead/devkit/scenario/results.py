"""What a scenario run produced: per-epoch settlement, disputes, credit and energy outcomes (the demo's table)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wellhead.chain.observations import ZERO32


@dataclass
class EpochRow:
    epoch: int
    proven: bool
    uptime_bps: int
    curtailed_bps: int
    delivered: int
    protocol_fee: int
    operator_fee: int
    holders: int
    credit: int
    note: str


@dataclass
class DisputeRow:
    """A lie within the fault bound: what the liar claimed, what settled, and what the dispute cost it."""

    epoch: int
    liar: int  # attestor index
    claimed_bps: int  # the liar's uptime
    honest_bps: tuple[int, ...]  # the other observations' uptime
    settled_bps: int  # the median the contract took
    challenger: str
    status: str
    slashed: int  # from the liar's stake
    challenger_paid: int


@dataclass
class CreditOutcome:
    """Investor A's loan against its shares, from borrowing to liquidation."""

    supplied: int = 0
    collateral: int = 0  # shares
    borrowed: int = 0
    nav: dict[int, int] = field(default_factory=dict)  # epoch -> NAV per share (a valuation)
    lending: dict[int, int] = field(default_factory=dict)  # epoch -> lending price per share (what loans use)
    price_at_borrow: int = 0
    health_at_borrow: int = 0
    health_before_liquidation: int = 0
    price_at_liquidation: int = 0
    repaid: int = 0
    seized: int = 0
    bad_debt: int = 0
    health_after: int = 0


@dataclass
class BtcOutcome:
    """A former bitcoin miner (the operator) pledges BTC to finance GPUs; BTC falls; it is liquidated."""

    supplied: int = 0  # stablecoin the BTC market's lender supplied
    pledged: int = 0  # satoshi
    price_at_borrow: int = 0  # stablecoin units per whole bitcoin
    borrowed: int = 0
    health_at_borrow: int = 0
    price_after_drop: int = 0
    health_after_drop: int = 0
    repaid: int = 0
    seized: int = 0  # satoshi
    bad_debt: int = 0
    debt_after: int = 0  # what the miner still owes, read in the liquidation's own block
    health_after: int = 0


@dataclass
class DemoResult:
    asset_id: int
    epochs: list[EpochRow] = field(default_factory=list)
    lessees: dict[str, dict[str, int]] = field(default_factory=dict)
    holders: dict[str, dict[str, int]] = field(default_factory=dict)
    operator_fees: int = 0
    sale_proceeds: int = 0
    bond_used: int = 0
    treasury: int = 0
    market_dust: int = 0
    credit: CreditOutcome = field(default_factory=CreditOutcome)
    btc: BtcOutcome = field(default_factory=BtcOutcome)
    grid_events: list[GridEventRow] = field(default_factory=list)
    energy: list[EnergyRow] = field(default_factory=list)
    carbon_free: dict[str, tuple[int, int]] = field(default_factory=dict)  # lease -> (energy Wh, carbon-free Wh)
    disputes: list[DisputeRow] = field(default_factory=list)


@dataclass
class EnergyRow:
    """One reported epoch's energy: the split between AI and mining, each side's revenue, green values."""

    epoch: int
    facility_wh: int
    gpu_wh: int
    mining_wh: int
    ai_revenue: int  # what lessees were charged (delivered)
    mining_revenue: int
    renewable_bps: int
    carbon_g_per_kwh: int
    wh_per_gpu_hour: int | None
    certificates: int


@dataclass
class GridEventRow:
    """A grid curtailment event, what it excused and the demand-response income it earned holders."""

    name: str
    source: str
    starts_at: int
    ends_at: int
    epoch: int
    declaration: bytes = ZERO32  # the GridLedger declaration id reports name
    income: int = 0
    protocol_fee: int = 0
    operator_fee: int = 0
    holders_income: int = 0
