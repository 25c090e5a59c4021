"""The devnet demo: one GPU cluster's life through leases, signed reports and settlement.

Registers an asset, sells shares, opens a firm and an interruptible lease, posts signed reports for
several epochs (a grid curtailment, downtime below the SLA, a missing report), settles every epoch and
prints who paid and who earned what. Beside it, the asset's NAV feed prices its shares after every
settled epoch; a lender supplies the CreditMarket, investor A borrows against shares, and when the
missing report drags the NAV down a liquidator takes part of the position. The site is hybrid (Bitcoin
miners beside the GPUs) and green claims are backed (a PPA share, retired certificates, a grid feed): the
demo prints each use's revenue per kWh and each lease's carbon-free energy. Needs a dev chain that can
move time (anvil).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD

from wellhead.chain.client import Protocol, lending_price, nav_price, send
from wellhead.chain.connection import rpc
from wellhead.chain.eip712 import (
    ZERO32,
    Observation,
    ObservationClaim,
    Report,
    build_report,
    report_digest,
    sign_digest,
    sign_observation,
)
from wellhead.chain.grid import (
    GridEvent,
    GridEventSource,
    declaration_id,
    grid_event_id,
    payload_hash,
    sign_grid_event,
)
from wellhead.chain.reports import ReportStatus, StoredReport, accepted_report, attestor_stake
from wellhead.energy import carbon_free_wh, lease_energy_wh, split_by_use, wh_per_delivered_gpu_hour
from wellhead.units import fmt_units

USDC = 10**6
SHARE = 10**18
BTC = 10**8  # satoshi per bitcoin
DEMAND_RESPONSE_CREDIT = 1_250 * USDC  # what the curtailment earned from the grid operator
ATTESTOR_STAKE = 1_000 * USDC  # the operator funds each attestor's stake
FIRM, INTERRUPTIBLE = 0, 1


@dataclass
class Actors:
    admin: LocalAccount
    operator: LocalAccount
    investor_a: LocalAccount
    investor_b: LocalAccount
    lessee_firm: LocalAccount
    lessee_interruptible: LocalAccount
    attestors: list[LocalAccount]
    lender: LocalAccount
    liquidator: LocalAccount

    @classmethod
    def from_dev_accounts(cls, accounts: list[LocalAccount]) -> Actors:
        """Needs the 12 accounts the devnet's anvil funds: the site agent and three checkers attest (f = 1)."""
        a = accounts
        return cls(a[0], a[1], a[2], a[3], a[4], a[5], [a[6], a[7], a[8], a[11]], a[9], a[10])


@dataclass
class EpochPlan:
    epoch: int
    uptime_bps: int | None  # None: no report reaches the chain
    curtailed_bps: int = 0
    grid_event: str = ""
    observers: int = 3  # scripted: how many attestors observe (a report needs 2f + 1 = 3)
    note: str = ""
    failed_gpus: tuple[int, ...] = ()  # agent mode: GPUs broken during the epoch
    liar: int = 0  # attestor index (1-based) that lies this epoch: it claims every GPU failed


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


# With site agents (make demo): the agents measure; the plan only breaks GPUs, makes a checker lie or takes the
# agents offline.
AGENT_PLAN = [
    EpochPlan(1, 0, liar=4, note="checker 3 lies (all GPUs down): the median stands; the liar is slashed"),
    EpochPlan(
        2, 0, curtailed_bps=2_500, grid_event="EEA-2026-08-14", note="grid curtailment: OpenADR event from the VTN"
    ),
    EpochPlan(3, 0, failed_gpus=(8, 9, 10, 11), note="4 GPUs fail (XID): below the 99 % SLA"),
    EpochPlan(4, None, note="agents offline: no report, nothing delivered"),
]

PLAN = [
    EpochPlan(1, 9_995, observers=4, liar=4, note="checker 3 lies (0 %): the median stands; the liar is slashed"),
    EpochPlan(
        2, 9_990, curtailed_bps=2_500, grid_event="ERCOT-EEA-2026-08-14", note="grid curtailment (ERCOT, by phone)"
    ),
    EpochPlan(3, 9_600, observers=4, note="downtime below the 99 % SLA"),
    EpochPlan(4, None, note="no report: nothing delivered"),
]


class Demo:
    def __init__(self, w3: Web3, protocol: Protocol, actors: Actors, fleet_factory: object = None) -> None:
        self.w3 = w3
        self.p = protocol
        self.a = actors
        self.asset_id = 0
        self.fleet_factory = fleet_factory  # callable(asset_id) -> AgentFleet: agents measure and sign
        self.fleet: object = None

    # ------------------------------------------------------------ helpers
    def _send(self, who: LocalAccount, fn: ContractFunction) -> dict[str, Any]:
        return dict(send(self.w3, who, fn))

    def _warp_to(self, timestamp: int) -> None:
        now = self.w3.eth.get_block("latest")["timestamp"]
        if timestamp > now:
            rpc(self.w3, "evm_setNextBlockTimestamp", [timestamp])
            rpc(self.w3, "evm_mine", [])

    def _balance(self, who: str) -> int:
        result: int = self.p.stablecoin.functions.balanceOf(who).call()
        return result

    def _epoch_end(self, epoch: int) -> int:
        result: int = self.p.registry.functions.epochEnd(self.asset_id, epoch).call()
        return result

    # ------------------------------------------------------------ steps
    def fund(self) -> None:
        coin = self.p.stablecoin.functions
        for who in (
            self.a.operator,
            self.a.investor_a,
            self.a.investor_b,
            self.a.lessee_firm,
            self.a.lessee_interruptible,
            self.a.lender,
            self.a.liquidator,
            *self.a.attestors,  # they pay their challenge bonds
        ):
            self._send(self.a.admin, coin.mint(who.address, 1_000_000 * USDC))
            for spender in (
                self.p.registry.address,
                self.p.market.address,
                self.p.oracle.address,
                self.p.credit.address,
            ):
                self._send(who, coin.approve(spender, 2**256 - 1))

    def register(
        self,
        gpus: int = 64,
        attestors: list[str] | None = None,
        fault_tolerance: int = 1,
        investor_shares: int = 300_000 * SHARE,
        curtailment_cap_hours: int = 1,
        stake: int = ATTESTOR_STAKE,
    ) -> int:
        """Registers the demo asset (tolerating `fault_tolerance` faulty attestors of the four) and stakes every
        attestor; `investor_shares` of the 1,000,000 go to investor A, the rest to the operator."""
        params = (
            b"TX-ABILENE-1".ljust(32, b"\0"),
            b"H100-SXM".ljust(32, b"\0"),
            gpus,
            700,  # max W per GPU
            3600,  # epoch length
            1_000,  # operator fee bps
            9_900,  # SLA target bps
            fault_tolerance,
            attestors if attestors is not None else [a.address for a in self.a.attestors],
            (2 * USDC, 8_000, 2_000, 20_000, 3_000),  # 2 USDC/GPU-h, kink 80 %, +20 %, +200 %, -30 %
            50_000 * USDC,  # bond
            "Wellhead Abilene H100",
            "whABL1",
            1_000_000 * SHARE,
            [self.a.investor_a.address],
            [investor_shares],
            False,
            curtailment_cap_hours,
        )
        receipt = self._send(self.a.operator, self.p.registry.functions.registerAsset(params))
        event = self.p.registry.events.AssetRegistered().process_receipt(receipt, errors=DISCARD)[0]
        self.asset_id = int(event["args"]["assetId"])
        if stake:
            for attestor in self.p.oracle.functions.attestors(self.asset_id).call():
                self._send(self.a.operator, self.p.oracle.functions.depositStake(self.asset_id, attestor, stake))
        return self.asset_id

    def sell_shares(self) -> None:
        shares = self.p.shares(self.asset_id)
        deadline = self.w3.eth.get_block("latest")["timestamp"] + 7 * 86_400
        self._send(self.a.operator, shares.functions.openSale(200_000 * SHARE, 1 * USDC, deadline))
        self._send(self.a.investor_b, self.p.stablecoin.functions.approve(shares.address, 2**256 - 1))
        self._send(self.a.investor_b, shares.functions.buy(150_000 * SHARE, 1 * USDC))

    def open_leases(self) -> dict[str, int]:
        market = self.p.market.functions
        ids = {}
        for label, who, gpus, cls in (
            ("firm 32 GPUs", self.a.lessee_firm, 32, FIRM),
            ("interruptible 16 GPUs", self.a.lessee_interruptible, 16, INTERRUPTIBLE),
        ):
            quote = market.quote(self.asset_id, gpus, cls).call()
            receipt = self._send(who, market.openLease(self.asset_id, gpus, 4, cls, quote))
            event = self.p.market.events.LeaseOpened().process_receipt(receipt, errors=DISCARD)[0]
            ids[label] = int(event["args"]["leaseId"])
        return ids

    def call_grid_event(self, plan: EpochPlan, result: DemoResult) -> None:
        """A grid event over the last `curtailed_bps` of the epoch: with agents, the grid operator's VTN sends it
        and the site agent's VEN attests it; scripted, the operator posts a phone notice."""
        if self.fleet is None:
            self.declare_grid_event(plan, result)
            return
        from wellhead.fleet import AgentFleet

        assert isinstance(self.fleet, AgentFleet)
        end = self._epoch_end(plan.epoch)
        seconds = 3600 * plan.curtailed_bps // 10_000
        self.fleet.call_grid_event(plan.grid_event, end - seconds, seconds)
        program_id = f"{self.fleet.vtn_id}/{plan.grid_event}"
        declared = declaration_id(self.asset_id, grid_event_id(program_id), self.fleet.agents[0].signer.address)
        result.grid_events.append(
            GridEventRow(
                program_id,
                "OpenADR, VTN-signed, attested by the site agent",
                end - seconds,
                end,
                plan.epoch,
                declared,
            )
        )

    def declare_grid_event(self, plan: EpochPlan, result: DemoResult) -> None:
        """The operator posts the grid operator's phone notice: the last `curtailed_bps` of the epoch."""
        end = self._epoch_end(plan.epoch)
        notice = f"{plan.grid_event}: curtail flexible load, asset {self.asset_id}".encode()
        event = GridEvent(
            assetId=self.asset_id,
            eventId=grid_event_id(plan.grid_event),
            source=GridEventSource.MANUAL,
            startsAt=end - 3600 * plan.curtailed_bps // 10_000,
            endsAt=end,
            payloadHash=payload_hash(notice),
        )
        signature = sign_grid_event(event, self.p.chain_id, self.p.grid.address, self.a.operator)
        self._send(self.a.admin, self.p.grid.functions.declareEvent(event.as_tuple(), signature))
        declared = declaration_id(self.asset_id, event.event_id, self.a.operator.address)
        result.grid_events.append(
            GridEventRow(
                plan.grid_event, "operator-signed notice", event.starts_at, event.ends_at, plan.epoch, declared
            )
        )

    def deposit_energy_income(self, row: GridEventRow, amount: int) -> None:
        """The operator pays the demand-response credit the event earned into the asset's revenue."""
        receipt = self._send(
            self.a.operator,
            self.p.market.functions.depositEnergyIncome(self.asset_id, amount, row.declaration),
        )
        ev = self.p.market.events.EnergyIncomeDeposited().process_receipt(receipt, errors=DISCARD)[0]["args"]
        row.income, row.holders_income = ev["amount"], ev["holdersRevenue"]
        row.protocol_fee, row.operator_fee = ev["protocolFee"], ev["operatorFee"]

    def report(self, plan: EpochPlan, result: DemoResult) -> None:
        if self.fleet is not None:
            self._agents_report(plan)
            return
        self._warp_to(self._epoch_end(plan.epoch))
        if plan.uptime_bps is None:
            return
        self.retire_certificates(plan.epoch)
        grid = next((g.declaration for g in result.grid_events if g.epoch == plan.epoch), ZERO32)
        signed = []
        for i, attestor in enumerate(self.a.attestors[: plan.observers]):
            # each attestor signs its own measurement; the contract takes the median of all of them
            observer = i + 1
            observation = Observation(
                observer=observer,
                uptimeBps=0 if observer == plan.liar else max(0, plan.uptime_bps - 3 * i),
                curtailedBps=plan.curtailed_bps,
                gpuEnergyWh=30_000 - 50 * i,
                facilityEnergyWh=96_000,
                miningEnergyWh=52_000,
                miningRevenue=2_522_000,  # 52 kWh at 4.85 cents
                renewableBps=6_200,
                carbonGramsPerKwh=180,
                evidenceHash=keccak(text=f"evidence:{self.asset_id}:{plan.epoch}:{i}"),
            )
            claim = ObservationClaim(assetId=self.asset_id, epoch=plan.epoch, gridEventId=grid, observation=observation)
            signed.append((observation, sign_observation(claim, self.p.chain_id, self.p.oracle.address, attestor)))
        report = build_report(self.asset_id, plan.epoch, grid, signed)
        digest = report_digest(report, self.p.chain_id, self.p.oracle.address)
        # two honest attestors co-sign after checking every observation's signature (f + 1 = 2)
        cosigners = [a for i, a in enumerate(self.a.attestors[: plan.observers]) if i + 1 != plan.liar][:2]
        cosignatures = b"".join(sign_digest(digest, a) for a in cosigners)
        self._send(self.a.attestors[0], self.p.oracle.functions.submitReport(report.as_tuple(), cosignatures))

    def _agents_report(self, plan: EpochPlan) -> None:
        from wellhead.fleet import AgentFleet

        fleet = self.fleet
        assert isinstance(fleet, AgentFleet)
        self._warp_to(self._epoch_end(plan.epoch) + 60)  # one sampling interval past the end
        if plan.uptime_bps is None:
            return
        fleet.fail_gpus(plan.failed_gpus)
        start = self._epoch_end(plan.epoch) - 3600
        fleet.export_pool_earnings(start, start + 3600)
        self.retire_certificates(plan.epoch)
        if plan.liar:
            fleet.lie(plan.liar, start, start + 3600)
        if not fleet.report(lambda: StoredReport.read(self.p.oracle, self.asset_id, plan.epoch).exists):
            raise RuntimeError(f"the site agents did not report epoch {plan.epoch}")
        fleet.fail_gpus(())

    def dispute(self, plan: EpochPlan, result: DemoResult) -> None:
        """An honest checker challenges the report because one observation in it is far from its own (the
        agents do it themselves; scripted, checker 1 does); the arbiter keeps the values, which the median
        protected, and names the liar, whose stake is slashed."""
        oracle = self.p.oracle
        log = oracle.events.ReportAccepted().get_logs(
            from_block=0, argument_filters={"assetId": self.asset_id, "epoch": plan.epoch}
        )[-1]
        accepted = accepted_report(self.w3, oracle, log)
        if self.fleet is not None:
            from wellhead.fleet import AgentFleet

            assert isinstance(self.fleet, AgentFleet)
            challenged = self.fleet.report(
                lambda: StoredReport.read(oracle, self.asset_id, plan.epoch).status == ReportStatus.CHALLENGED
            )
            if not challenged:
                raise RuntimeError(f"no checker challenged the lie in epoch {plan.epoch}")
        else:
            challenger = self.a.attestors[1]
            self._send(challenger, self.p.stablecoin.functions.approve(oracle.address, 2**256 - 1))
            self._send(challenger, oracle.functions.challenge(self.asset_id, plan.epoch))
        liar = oracle.functions.attestors(self.asset_id).call()[plan.liar - 1]
        stake_before = attestor_stake(oracle, self.asset_id, liar)
        stored = StoredReport.read(oracle, self.asset_id, plan.epoch)
        verdict = (False, stored.uptime_bps, stored.curtailed_bps, 1 << (plan.liar - 1))
        receipt = self._send(self.a.admin, oracle.functions.resolveChallenge(self.asset_id, plan.epoch, verdict))
        resolved = oracle.events.ChallengeResolved().process_receipt(receipt, errors=DISCARD)[0]["args"]
        stake_after = attestor_stake(oracle, self.asset_id, liar)
        observations = {o.observer: o.uptime_bps for o in accepted.report.observations}
        result.disputes.append(
            DisputeRow(
                epoch=plan.epoch,
                liar=plan.liar,
                claimed_bps=observations.get(plan.liar, -1),
                honest_bps=tuple(v for k, v in sorted(observations.items()) if k != plan.liar),
                settled_bps=accepted.uptime_bps,
                challenger=self._attestor_name(oracle.functions.challengerOf(self.asset_id, plan.epoch).call()),
                status=ReportStatus(int(resolved["status"])).name.lower(),
                slashed=stake_before - stake_after,
                challenger_paid=int(resolved["challengerPaid"]),
            )
        )

    def _attestor_name(self, address: str) -> str:
        names = {str(a.address): f"checker {i}" if i else "the site agent" for i, a in enumerate(self.a.attestors)}
        return names.get(str(address), str(address))

    def retire_certificates(self, epoch: int) -> None:
        """The operator retires two wind certificates (25 kWh each) against the epoch before it is reported."""
        ids = [keccak(text=f"ERCOT-REC/TX-WIND-7/2026-{epoch:04d}-{n}") for n in (1, 2)]
        fn = self.p.grid.functions.retireCertificates(self.asset_id, epoch, ids, [25_000, 25_000])
        self._send(self.a.operator, fn)

    def energy(self, result: DemoResult, leases: dict[str, int]) -> None:
        """Each reported epoch's energy split and green values (from the oracle's events), and each lease's
        carbon-free energy: its GPUs' share of the AI side's energy times the epoch's renewable share."""
        terms = self.p.registry.functions.terms(self.asset_id).call()
        gpus, epoch_length = int(terms.gpuCount), int(terms.epochLength)
        delivered = {r.epoch: r.delivered for r in result.epochs}
        logs = self.p.oracle.events.ReportAccepted().get_logs(from_block=0, argument_filters={"assetId": self.asset_id})
        retired = self.p.grid.events.CertificateRetired().get_logs(
            from_block=0, argument_filters={"assetId": self.asset_id}
        )
        leased = {label: self.p.market.functions.leaseOf(i).call() for label, i in leases.items()}
        for log in logs:
            accepted = accepted_report(self.w3, self.p.oracle, log)
            r, epoch = accepted.aggregate, accepted.epoch
            if epoch == 0:
                continue
            row = EnergyRow(
                epoch,
                r.facility_energy_wh,
                r.gpu_energy_wh,
                r.mining_energy_wh,
                delivered.get(epoch, 0),
                r.mining_revenue,
                r.renewable_bps,
                r.carbon_grams_per_kwh,
                wh_per_delivered_gpu_hour(r.gpu_energy_wh, gpus, epoch_length, accepted.uptime_bps),
                sum(1 for c in retired if c["args"]["epoch"] == epoch),
            )
            result.energy.append(row)
            for label, lease in leased.items():
                if int(lease.startEpoch) <= epoch < int(lease.endEpoch):
                    used = lease_energy_wh(row.facility_wh, row.gpu_wh, row.mining_wh, int(lease.gpus), gpus)
                    total, green = result.carbon_free.get(label, (0, 0))
                    result.carbon_free[label] = (total + used, green + carbon_free_wh(used, row.renewable_bps))

    # ------------------------------------------------------------ credit
    def open_credit(self, supply: int = 500_000 * USDC) -> None:
        """The operator creates the asset's NAV feed; governance lists the shares as collateral (LTV 50 %,
        liquidation at 70 %, 8 % bonus, half the debt per liquidation; debt capped at `supply`); the lender
        supplies `supply`.

        The feed is sized to the demo's five epochs: 1-epoch windows, so it is seasoned after two full
        windows (K = 2) and lends against at most three windows of revenue (M = 3; LTV x M = 1.5 < K). A
        production feed would use windows of days and a track record of weeks."""
        now = self.w3.eth.get_block("latest")["timestamp"]
        nav_params = (1, 3, now + 3 * 365 * 86_400, 3, 2)  # window, stale after, life end, M, K
        self._send(self.a.operator, self.p.nav_factory.functions.create(self.asset_id, nav_params))
        supply_cap = self.p.shares(self.asset_id).functions.totalSupply().call()
        self._send(
            self.a.admin,
            self.p.credit.functions.listCollateral(self.asset_id, (5_000, 7_000, 800, 5_000), (supply, supply_cap)),
        )
        self._send(self.a.lender, self.p.credit.functions.deposit(supply, self.a.lender.address))

    def update_nav(self, epoch: int, result: DemoResult) -> None:
        """A keeper records the feed's round for the epoch just settled."""
        nav = self.p.nav(self.asset_id)
        self._send(self.a.admin, nav.functions.update())
        result.credit.nav[epoch] = nav_price(nav)
        lending = lending_price(nav)
        result.credit.lending[epoch] = lending.price if lending.seasoned else 0  # a young feed lends nothing

    def borrow(self, result: DemoResult) -> None:
        """Investor A pledges 250,000 shares and borrows four fifths of what it may at the lending price."""
        credit, shares = self.p.credit.functions, self.p.shares(self.asset_id)
        c = result.credit
        c.collateral = 250_000 * SHARE
        self._send(self.a.investor_a, shares.functions.approve(self.p.credit.address, c.collateral))
        borrower = self.a.investor_a.address
        self._send(self.a.investor_a, credit.depositCollateral(self.asset_id, c.collateral, borrower))
        # four fifths of what it may: the missing report then leaves it under water, but not insolvent
        c.borrowed = credit.borrowCapacity(self.asset_id, borrower).call() * 4 // 5
        self._send(self.a.investor_a, credit.borrow(self.asset_id, c.borrowed, borrower))
        c.price_at_borrow = lending_price(self.p.nav(self.asset_id)).price
        c.health_at_borrow = credit.healthFactor(self.asset_id, borrower).call()

    def liquidate(self, result: DemoResult) -> None:
        """If the NAV fell far enough, the liquidator repays what one liquidation may and takes collateral."""
        credit, c = self.p.credit.functions, result.credit
        borrower = self.a.investor_a.address
        self._send(self.a.liquidator, credit.settle(self.asset_id, borrower))
        c.health_before_liquidation = credit.healthFactor(self.asset_id, borrower).call()
        c.price_at_liquidation = lending_price(self.p.nav(self.asset_id)).price
        if c.health_before_liquidation >= 10**18:
            c.health_after = c.health_before_liquidation
            return
        debt = credit.debtOf(self.asset_id, borrower).call()
        value = c.collateral * c.price_at_liquidation // SHARE
        _, _, bonus, close = credit.collateralParams(self.asset_id).call()
        insolvent = value * 10_000 < debt * (10_000 + bonus)
        repay = debt if insolvent else debt * close // 10_000
        receipt = self._send(
            self.a.liquidator, credit.liquidate(self.asset_id, borrower, repay, self.a.liquidator.address)
        )
        ev = self.p.credit.events.Liquidated().process_receipt(receipt, errors=DISCARD)[0]["args"]
        c.repaid, c.seized, c.bad_debt = ev["repaid"], ev["seized"], ev["badDebt"]
        c.health_after = credit.healthFactor(self.asset_id, borrower).call()

    # ------------------------------------------------------------ bitcoin as collateral
    def btc_loan(self, b: BtcOutcome, pledged: int = 10 * BTC, drop_to: int = 48_000 * 10**8) -> None:
        """The operator, a former bitcoin miner, pledges `pledged` wrapped BTC and borrows about two thirds of its
        value to pay for GPUs; the BTC / USD feed then falls to `drop_to` (8 decimals) and a liquidator repays
        what one liquidation may, taking BTC at a 5 % bonus."""
        btc, coin = self.p.btc_credit, self.p.stablecoin.functions
        lender, miner, liquidator = self.a.lender, self.a.operator, self.a.liquidator
        b.supplied = 500_000 * USDC
        for who in (lender, miner, liquidator):
            self._send(who, coin.approve(btc.address, 2**256 - 1))
        self._send(lender, btc.functions.deposit(b.supplied, lender.address))
        self._send(self.a.admin, self.p.wbtc.functions.mint(miner.address, pledged))
        self._send(miner, self.p.wbtc.functions.approve(btc.address, pledged))
        self._send(self.a.admin, self.p.btc_usd.functions.setAnswer(60_000 * 10**8))  # a fresh round now
        self._send(miner, btc.functions.supplyCollateral(pledged, miner.address))
        b.pledged = pledged
        b.price_at_borrow = btc.functions.price().call()[0]
        b.borrowed = pledged * b.price_at_borrow // BTC * 2 // 3 // USDC * USDC  # two thirds, whole dollars
        self._send(miner, btc.functions.borrow(b.borrowed, miner.address))
        b.health_at_borrow = btc.functions.healthFactor(miner.address).call()
        self._send(self.a.admin, self.p.btc_usd.functions.setAnswer(drop_to))
        b.price_after_drop = btc.functions.price().call()[0]
        b.health_after_drop = btc.functions.healthFactor(miner.address).call()
        if b.health_after_drop >= 10**18:
            b.health_after = b.health_after_drop
            return
        receipt = self._send(liquidator, btc.functions.liquidate(miner.address, 2**256 - 1, liquidator.address))
        ev = btc.events.Liquidated().process_receipt(receipt, errors=DISCARD)[0]["args"]
        b.repaid, b.seized, b.bad_debt = ev["repaid"], ev["seized"], ev["badDebt"]
        b.health_after = btc.functions.healthFactor(miner.address).call()

    def finalize(self, epoch: int, note: str, result: DemoResult) -> None:
        deadline, _window = self.p.registry.functions.reportTimes().call()
        stored = StoredReport.read(self.p.oracle, self.asset_id, epoch)
        # a pending report settles when its challenge window (fixed at acceptance) ends; a resolved one at once
        if stored.status == ReportStatus.PENDING:
            ready_at = stored.challenge_ends_at
        elif stored.exists:
            ready_at = 0
        else:
            ready_at = self._epoch_end(epoch) + deadline + 1
        self._warp_to(ready_at)
        receipt = self._send(self.a.admin, self.p.market.functions.finalizeEpoch(self.asset_id, epoch))
        ev = self.p.market.events.EpochSettled().process_receipt(receipt, errors=DISCARD)[0]["args"]
        result.epochs.append(
            EpochRow(
                epoch,
                ev["proven"],
                ev["uptimeBps"],
                ev["curtailedBps"],
                ev["delivered"],
                ev["protocolFee"],
                ev["operatorFee"],
                ev["holdersRevenue"],
                ev["serviceCredit"],
                note,
            )
        )
        self.update_nav(epoch, result)

    def run(self) -> DemoResult:
        self.fund()
        self.register()
        if self.fleet_factory is not None:
            self.fleet = self.fleet_factory(self.asset_id)  # type: ignore[operator]
        result = DemoResult(self.asset_id)
        bond_before = self.p.registry.functions.bondOf(self.asset_id).call()
        result.credit.supplied = 500_000 * USDC
        self.open_credit(result.credit.supplied)
        self.sell_shares()
        leases = self.open_leases()
        prepaid = {label: self._prepaid(i) for label, i in leases.items()}
        self.report(EpochPlan(0, 10_000), result)
        self.finalize(0, "before the leases start", result)
        for plan in AGENT_PLAN if self.fleet is not None else PLAN:
            if plan.uptime_bps is None and not result.credit.borrowed:
                self.borrow(result)  # just before the epoch whose report never comes
            if plan.grid_event:
                self.call_grid_event(plan, result)
            self.report(plan, result)
            if plan.liar:
                self.dispute(plan, result)
            self.finalize(plan.epoch, plan.note, result)
            if plan.grid_event:
                self.deposit_energy_income(result.grid_events[-1], DEMAND_RESPONSE_CREDIT)
        self.liquidate(result)
        self.btc_loan(result.btc)
        self.energy(result, leases)
        if self.fleet is not None:
            self.fleet.close()  # type: ignore[attr-defined]
        self._claim_all(leases, prepaid, result)
        result.bond_used = bond_before - self.p.registry.functions.bondOf(self.asset_id).call()
        result.market_dust = self._balance(self.p.market.address)
        return result

    def _prepaid(self, lease_id: int) -> int:
        lease = self.p.market.functions.leaseOf(lease_id).call()
        return int(lease.ratePerEpoch) * (int(lease.endEpoch) - int(lease.startEpoch))

    def _claim_all(self, leases: dict[str, int], prepaid: dict[str, int], result: DemoResult) -> None:
        market = self.p.market.functions
        owners = {"firm 32 GPUs": self.a.lessee_firm, "interruptible 16 GPUs": self.a.lessee_interruptible}
        for label, lease_id in leases.items():
            refund, credit = market.refundable(lease_id).call()
            self._send(owners[label], market.claimRefund(lease_id, owners[label].address))
            result.lessees[label] = {
                "prepaid": prepaid[label],
                "charged": prepaid[label] - refund,
                "refund": refund,
                "credit": credit,
            }
        shares = self.p.shares(self.asset_id)
        for label, who in (
            ("investor A", self.a.investor_a),
            ("investor B", self.a.investor_b),
            ("operator", self.a.operator),
        ):
            amount = shares.functions.claimable(who.address).call()
            if amount:
                self._send(who, shares.functions.claim(who.address))
            result.holders[label] = {
                "shares": shares.functions.balanceOf(who.address).call(),
                "revenue": amount,
            }
        result.operator_fees = market.feesOf(self.a.operator.address).call()
        self._send(self.a.operator, market.withdrawFees(self.a.operator.address))
        result.sale_proceeds = shares.functions.proceeds().call()
        self._send(self.a.operator, shares.functions.withdrawProceeds(self.a.operator.address))
        treasury = self.w3.eth.account.from_key(self.a.admin.key)  # the devnet treasury is the admin
        result.treasury = market.protocolFees().call()
        self._send(treasury, market.withdrawFees(treasury.address))


def uniform_report(
    p: Protocol,
    asset_id: int,
    epoch: int,
    attestors: list[LocalAccount],
    uptime_bps: int,
    energy_wh: int = 10_000,
    observers: int = 3,
    grid_event: bytes = ZERO32,
) -> Report:
    """Attestors 1..observers (`attestors` in the asset's order) observe the same values, each signing its own."""
    signed = []
    for i, attestor in enumerate(attestors[:observers]):
        observation = Observation(
            observer=i + 1,
            uptimeBps=uptime_bps,
            gpuEnergyWh=energy_wh,
            facilityEnergyWh=energy_wh * 6 // 5,
            evidenceHash=keccak(text=f"evidence:{asset_id}:{epoch}:{i}"),
        )
        claim = ObservationClaim(assetId=asset_id, epoch=epoch, gridEventId=grid_event, observation=observation)
        signed.append((observation, sign_observation(claim, p.chain_id, p.oracle.address, attestor)))
    return build_report(asset_id, epoch, grid_event, signed)


def cosign(p: Protocol, report: Report, signers: list[LocalAccount]) -> bytes:
    """The co-signatures of `signers` over `report`, concatenated as `submitReport` takes them."""
    digest = report_digest(report, p.chain_id, p.oracle.address)
    return b"".join(sign_digest(digest, s) for s in signers)


def pct(bps: int) -> str:
    """Basis points as a percentage, exactly: 9992 -> '99.92%'."""
    return f"{bps // 100}.{bps % 100:02d}%"


def render(result: DemoResult) -> str:
    u = fmt_units
    lines = [f"Settlement of asset #{result.asset_id} (64 x H100-SXM at TX-ABILENE-1), amounts in tUSDC", ""]
    lines.append(
        f"{'epoch':>5} {'report':<8} {'uptime':>7} {'curtail':>7} {'delivered':>14} {'protocol':>12} "
        f"{'operator':>12} {'holders':>14} {'SLA credit':>12}  note"
    )
    for r in result.epochs:
        lines.append(
            f"{r.epoch:>5} {'signed' if r.proven else 'missing':<8} {pct(r.uptime_bps):>7} "
            f"{pct(r.curtailed_bps):>7} {u(r.delivered):>14} {u(r.protocol_fee):>12} "
            f"{u(r.operator_fee):>12} {u(r.holders):>14} {u(r.credit):>12}  {r.note}"
        )
    lines += ["", f"{'lessee':<24} {'prepaid':>14} {'charged':>14} {'refunded':>14} {'SLA credit':>12}"]
    for label, v in result.lessees.items():
        lines.append(
            f"{label:<24} {u(v['prepaid']):>14} {u(v['charged']):>14} {u(v['refund']):>14} {u(v['credit']):>12}"
        )
    lines += ["", f"{'share holder':<24} {'shares':>14} {'revenue':>14}"]
    for label, v in result.holders.items():
        lines.append(f"{label:<24} {v['shares'] // 10**18:>14,} {u(v['revenue']):>14}")
    lines += [
        "",
        f"operator fees {u(result.operator_fees)}, share sale proceeds {u(result.sale_proceeds)}, "
        f"bond drawn for SLA credits {u(result.bond_used)}",
        f"treasury (protocol fee) {u(result.treasury)}",
        f"left in the market after every claim: {result.market_dust} base units of rounding dust",
    ]
    return "\n".join(
        lines
        + render_disputes(result.disputes)
        + render_grid(result.grid_events)
        + render_energy(result)
        + render_credit(result.credit)
        + render_btc(result.btc)
    )


def render_disputes(rows: list[DisputeRow]) -> list[str]:
    if not rows:
        return []
    lines = ["", "Attestation (4 attestors, tolerating 1 faulty: 3 observations and 2 co-signers per report)"]
    for r in rows:
        honest = ", ".join(pct(v) for v in r.honest_bps)
        lines.append(
            f"epoch {r.epoch}: checker {r.liar - 1} claimed {pct(r.claimed_bps)} beside {honest}; "
            f"the contract's median is {pct(r.settled_bps)}: the lie moved nothing"
        )
        lines.append(
            f"  challenged by {r.challenger}, {r.status} by the arbiter: the liar lost {fmt_units(r.slashed)} "
            f"of its stake, the challenger got {fmt_units(r.challenger_paid)} (bond back + reward)"
        )
    return lines


def render_energy(result: DemoResult) -> list[str]:
    if not result.energy:
        return []
    u = fmt_units
    lines = [
        "",
        "Hybrid site and green energy (facility kWh split by the GPU and miner meters; revenue per kWh in tUSDC)",
        f"{'epoch':>5} {'AI kWh':>9} {'mining kWh':>11} {'AI /kWh':>10} {'mining /kWh':>12} "
        f"{'Wh/GPU-h':>9} {'renewable':>9} {'gCO2/kWh':>8} {'certs':>5}",
    ]
    for r in result.energy:
        s = split_by_use(r.facility_wh, r.gpu_wh, r.mining_wh, r.ai_revenue, r.mining_revenue)
        lines.append(
            f"{r.epoch:>5} {u(s.ai_wh, 3):>9} {u(s.mining_wh, 3):>11} "
            f"{u(s.ai_revenue_per_kwh or 0):>10} {u(s.mining_revenue_per_kwh or 0):>12} "
            f"{r.wh_per_gpu_hour if r.wh_per_gpu_hour is not None else '-':>9} {pct(r.renewable_bps):>9} "
            f"{r.carbon_g_per_kwh:>8} {r.certificates:>5}"
        )
    for label, (wh, green) in result.carbon_free.items():
        share = green * 10_000 // wh if wh else 0
        lines.append(f"{label}: {u(wh, 3)} kWh, of which carbon-free {u(green, 3)} kWh ({pct(share)})")
    return lines


def render_grid(rows: list[GridEventRow]) -> list[str]:
    if not rows:
        return []
    lines = ["", "Grid events (curtailed time is not charged to interruptible leases; firm leases are never curtailed)"]
    for r in rows:
        minutes = (r.ends_at - r.starts_at) // 60
        lines.append(
            f"{r.name} ({r.source}): {minutes} min in epoch {r.epoch}; demand-response credit "
            f"{fmt_units(r.income)} paid in, {fmt_units(r.holders_income)} to share holders"
        )
    return lines


def health(wad: int) -> str:
    """A health factor (WAD) to three decimals, truncated."""
    return "no debt" if wad >= 2**255 else fmt_units(wad // 10**15, 3)


def render_btc(b: BtcOutcome) -> list[str]:
    u = fmt_units
    if not b.pledged:
        return []
    lines = [
        "",
        "Bitcoin as collateral (BTC market: Chainlink BTC / USD feed, 1 h heartbeat; LTV 70 %, liquidation at 80 %)",
        f"lender supplied {u(b.supplied)}; the operator pledged {fmt_units(b.pledged, 8)} BTC at "
        f"{u(b.price_at_borrow)} and borrowed {u(b.borrowed)} for GPUs (health {health(b.health_at_borrow)})",
        f"BTC falls to {u(b.price_after_drop)}: health {health(b.health_after_drop)}",
    ]
    if b.seized:
        lines.append(
            f"liquidated: repaid {u(b.repaid)}, took {fmt_units(b.seized, 8)} BTC, bad debt {u(b.bad_debt)}; "
            f"health now {health(b.health_after)}"
        )
    else:
        lines.append("still healthy: no liquidation")
    return lines


def render_credit(c: CreditOutcome) -> list[str]:
    u = fmt_units
    navs = ", ".join(f"epoch {e}: {u(p)}" for e, p in sorted(c.nav.items()))
    lendings = ", ".join(f"epoch {e}: {u(p)}" for e, p in sorted(c.lending.items()))
    lines = [
        "",
        "Credit market (NAV feed: trailing revenue x uptime x remaining life, per share)",
        f"NAV after each settled epoch: {navs}",
        "lending price (the mean of the last K = 2 windows, life capped at M = 3 windows; 0 until seasoned): "
        + lendings,
        f"lender supplied {u(c.supplied)}; investor A pledged {c.collateral // SHARE:,} shares at "
        f"{u(c.price_at_borrow)} and borrowed {u(c.borrowed)} (health {health(c.health_at_borrow)})",
        f"after the missing report the lending price is {u(c.price_at_liquidation)}: "
        f"health {health(c.health_before_liquidation)}",
    ]
    if c.seized:
        lines.append(
            f"liquidated: repaid {u(c.repaid)}, took {fmt_units(c.seized // 10**16, 2)} shares, "
            f"bad debt {u(c.bad_debt)}; health now {health(c.health_after)}"
        )
    else:
        lines.append("still healthy: no liquidation")
    return lines
