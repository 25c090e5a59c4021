"""The protocol's deployment as one plan: which contracts, in which order, with which constructor arguments, and
the calls that wire them. `wellhead deploy` (web3, `chain.deploy`) and `ape run deploy` (ape accounts,
`scripts/deploy.py`) both execute this plan through a `DeployBackend`, so the two can never drift apart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from wellhead.chain.deployment import DeployedContract
from wellhead.chain.params import BtcParams, CreditParams, ProtocolParams
from wellhead.chain.stablecoin import StablecoinInfo


@dataclass
class PlanState:
    """What the plan has deployed so far (record name -> address) and the stablecoin, once known."""

    admin: str
    addresses: dict[str, str] = field(default_factory=dict)
    coin: StablecoinInfo | None = None

    def __getitem__(self, name: str) -> str:
        return self.addresses[name]

    @property
    def stablecoin(self) -> StablecoinInfo:
        assert self.coin is not None, "the plan inspects the stablecoin before any step that needs it"
        return self.coin


Args = Callable[[PlanState], tuple[object, ...]]


@dataclass(frozen=True)
class Step:
    """Deploy `artifact` as `name` with `args(state)`, if `when(state)`; then call each of `calls`."""

    name: str
    artifact: str
    args: Args
    when: Callable[[PlanState], bool] = lambda _: True
    calls: tuple[tuple[str, str, Args], ...] = ()  # (record name of the target, function, arguments)


class DeployBackend(Protocol):
    def deploy(self, artifact: str, args: tuple[object, ...]) -> DeployedContract:
        """Deploys `artifact` and waits for it: its address, creation transaction and block."""

    def call(self, artifact: str, address: str, function: str, args: tuple[object, ...]) -> None:
        """Sends `function(*args)` to the contract and waits for it to be mined."""

    def inspect(self, address: str) -> StablecoinInfo:
        """The stablecoin's decimals and blocklist (ConfigError when it is not one the protocol takes)."""


def protocol_plan(params: ProtocolParams, credit: CreditParams, btc: BtcParams, *, devnet: bool) -> list[Step]:
    """Every contract of the protocol; on a devnet (no stablecoin given) with a test stablecoin, WBTC and BTC / USD
    feed; elsewhere the BTC market only when `btc` names its collateral and feed."""

    def btc_ready(s: PlanState) -> bool:
        return (btc.collateral or s.addresses.get("WrappedBtc")) is not None and (
            btc.price_feed or s.addresses.get("BtcUsdFeed")
        ) is not None

    def btc_terms(s: PlanState) -> tuple[object, ...]:
        collateral = btc.collateral or s["WrappedBtc"]
        feed = btc.price_feed or s["BtcUsdFeed"]
        terms = btc.terms(s.stablecoin, collateral, feed, credit.curve())
        return (s.admin, terms, btc.vault_name, btc.vault_symbol)

    registry_args: Args = lambda s: (  # noqa: E731
        s.admin,
        s.stablecoin.address,
        s["CapacitySharesFactory"],
        params.as_tuple(s.stablecoin.unit),
        s.stablecoin.blocklist.as_tuple(),
    )
    return [
        Step("Stablecoin", "TestStablecoin", lambda s: (s.admin,), when=lambda _: devnet),
        Step("CapacitySharesFactory", "CapacitySharesFactory", lambda _: ()),
        Step("CapacityRegistry", "CapacityRegistry", registry_args),
        Step("GridLedger", "GridLedger", lambda s: (s["CapacityRegistry"],)),
        Step("MetricsOracle", "MetricsOracle", lambda s: (s["CapacityRegistry"], s["GridLedger"])),
        Step(
            "LeaseMarket",
            "LeaseMarket",
            lambda s: (s["CapacityRegistry"], s["MetricsOracle"]),
            calls=(("CapacityRegistry", "wire", lambda s: (s["LeaseMarket"], s["MetricsOracle"])),),
        ),
        Step("PaymentRouter", "PaymentRouter", lambda s: (s["CapacityRegistry"],)),
        Step("NavOracleFactory", "NavOracleFactory", lambda s: (s["CapacityRegistry"],)),
        Step(
            "CreditMarket",
            "CreditMarket",
            lambda s: credit.constructor_args(s.admin, s["CapacityRegistry"], s["NavOracleFactory"], s.stablecoin.unit),
        ),
        Step("WrappedBtc", "TestWrappedBtc", lambda s: (s.admin,), when=lambda _: devnet and btc.collateral is None),
        Step(
            "BtcUsdFeed",
            "TestAggregator",
            lambda s: (s.admin, 8, "BTC / USD", btc.devnet_price),
            when=lambda _: devnet and btc.price_feed is None,
        ),
        Step("BtcCreditMarket", "BtcCreditMarket", btc_terms, when=btc_ready),
    ]


def execute(
    steps: list[Step], backend: DeployBackend, admin: str, stablecoin: str | None
) -> dict[str, DeployedContract]:
    """Runs the plan; a given `stablecoin` is recorded (not deployed) and inspected before anything else."""
    state = PlanState(admin)
    artifacts = {step.name: step.artifact for step in steps}  # a call's target is a record the plan deployed
    records: dict[str, DeployedContract] = {}
    if stablecoin is not None:
        state.coin = backend.inspect(stablecoin)
        state.addresses["Stablecoin"] = state.coin.address
        records["Stablecoin"] = DeployedContract(address=state.coin.address, tx_hash="", block=0)
    for step in steps:
        if not step.when(state):
            continue
        records[step.name] = backend.deploy(step.artifact, step.args(state))
        state.addresses[step.name] = records[step.name].address
        if step.name == "Stablecoin":
            state.coin = backend.inspect(records[step.name].address)
        for target, function, args in step.calls:
            backend.call(artifacts[target], state[target], function, args(state))
    return records
