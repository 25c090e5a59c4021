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

from collections.abc import Callable
from typing import TYPE_CHECKING

from web3 import Web3
from web3.logs import DISCARD

from wellhead.chain.client import Protocol
from wellhead.chain.enums import ReportStatus
from wellhead.chain.reports import StoredReport, accepted_report, attestor_stake
from wellhead.core.energy import carbon_free_wh, lease_energy_wh, wh_per_delivered_gpu_hour
from wellhead.devkit.scenario.actions import Scenario
from wellhead.devkit.scenario.actors import DEMAND_RESPONSE_CREDIT, USDC, Actors
from wellhead.devkit.scenario.drivers import AgentReports, ReportSource, ScriptedReports
from wellhead.devkit.scenario.plan import EpochPlan
from wellhead.devkit.scenario.results import DemoResult, DisputeRow, EnergyRow

if TYPE_CHECKING:
    from wellhead.devkit.fleet import AgentFleet


class Demo:
    """The demo's story on one asset, its reports from `fleet_factory`'s agents (given the asset id) or scripted."""

    def __init__(
        self,
        w3: Web3,
        protocol: Protocol,
        actors: Actors,
        fleet_factory: Callable[[int], AgentFleet] | None = None,
    ) -> None:
        self.scenario = Scenario(w3, protocol, actors)
        self.w3, self.p, self.a = w3, protocol, actors
        self.fleet_factory = fleet_factory

    @property
    def asset_id(self) -> int:
        return self.scenario.asset_id

    def reports(self) -> ReportSource:
        """The registered asset's report source: the fleet's agents, or scripted attestors."""
        if self.fleet_factory is None:
            return ScriptedReports(self.scenario)
        return AgentReports(self.scenario, self.fleet_factory(self.asset_id))

    def run(self) -> DemoResult:
        s = self.scenario
        s.fund()
        s.register()
        source = self.reports()
        result = DemoResult(self.asset_id)
        bond_before = self.p.registry.functions.bondOf(self.asset_id).call()
        result.credit.supplied = 500_000 * USDC
        s.open_credit(result.credit.supplied)
        s.sell_shares()
        leases = s.open_leases()
        prepaid = {label: s.prepaid(i) for label, i in leases.items()}
        source.report(EpochPlan(0, 10_000), result)
        self.settle(0, "before the leases start", result)
        for plan in source.plan:
            if plan.uptime_bps is None and not result.credit.borrowed:
                s.borrow(result)  # just before the epoch whose report never comes
            if plan.grid_event:
                source.grid_event(plan, result)
            source.report(plan, result)
            if plan.liar:
                self.dispute(source, plan, result)
            self.settle(plan.epoch, plan.note, result)
            if plan.grid_event:
                s.deposit_energy_income(result.grid_events[-1], DEMAND_RESPONSE_CREDIT)
        s.liquidate(result)
        s.btc_loan(result.btc)
        self.energy(result, leases)
        source.close()
        self.claim_all(leases, prepaid, result)
        result.bond_used = bond_before - self.p.registry.functions.bondOf(self.asset_id).call()
        result.market_dust = s.balance(self.p.market.address)
        return result

    def settle(self, epoch: int, note: str, result: DemoResult) -> None:
        """Finalizes the epoch, then a keeper records the NAV feed's round for it."""
        self.scenario.finalize(epoch, note, result)
        self.scenario.update_nav(epoch, result)

    def dispute(self, source: ReportSource, plan: EpochPlan, result: DemoResult) -> None:
        """An honest checker challenges the report because one observation in it is far from its own (the
        agents do it themselves; scripted, checker 1 does); the arbiter keeps the values, which the median
        protected, and names the liar, whose stake is slashed."""
        oracle = self.p.oracle
        log = oracle.events.ReportAccepted().get_logs(
            from_block=0, argument_filters={"assetId": self.asset_id, "epoch": plan.epoch}
        )[-1]
        accepted = accepted_report(self.w3, oracle, log)
        source.challenge(plan)
        liar = oracle.functions.attestors(self.asset_id).call()[plan.liar - 1]
        stake_before = attestor_stake(oracle, self.asset_id, liar)
        stored = StoredReport.read(oracle, self.asset_id, plan.epoch)
        verdict = (False, stored.uptime_bps, stored.curtailed_bps, 1 << (plan.liar - 1))
        receipt = self.scenario.send(
            self.a.admin, oracle.functions.resolveChallenge(self.asset_id, plan.epoch, verdict)
        )
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

    def claim_all(self, leases: dict[str, int], prepaid: dict[str, int], result: DemoResult) -> None:
        market = self.p.market.functions
        owners = {"firm 32 GPUs": self.a.lessee_firm, "interruptible 16 GPUs": self.a.lessee_interruptible}
        for label, lease_id in leases.items():
            refund, credit = market.refundable(lease_id).call()
            self.scenario.send(owners[label], market.claimRefund(lease_id, owners[label].address))
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
                self.scenario.send(who, shares.functions.claim(who.address))
            result.holders[label] = {
                "shares": shares.functions.balanceOf(who.address).call(),
                "revenue": amount,
            }
        result.operator_fees = market.feesOf(self.a.operator.address).call()
        self.scenario.send(self.a.operator, market.withdrawFees(self.a.operator.address))
        result.sale_proceeds = shares.functions.proceeds().call()
        self.scenario.send(self.a.operator, shares.functions.withdrawProceeds(self.a.operator.address))
        treasury = self.w3.eth.account.from_key(self.a.admin.key)  # the devnet treasury is the admin
        result.treasury = market.protocolFees().call()
        self.scenario.send(treasury, market.withdrawFees(treasury.address))
