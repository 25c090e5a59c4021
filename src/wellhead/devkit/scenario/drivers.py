"""Where a scenario's reports come from: scripted attestors signing planned values, or real site agents measuring
a simulated site. One interface, so the story never asks which."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from eth_utils.crypto import keccak

from wellhead.chain.enums import GridEventSource, ReportStatus
from wellhead.chain.grid import GridEvent, declaration_id, grid_event_id, payload_hash, sign_grid_event
from wellhead.chain.observations import ZERO32, Observation, build_report
from wellhead.chain.reports import StoredReport
from wellhead.devkit.scenario.actions import Scenario
from wellhead.devkit.scenario.plan import AGENT_PLAN, PLAN, EpochPlan
from wellhead.devkit.scenario.results import DemoResult, GridEventRow
from wellhead.devkit.scenario.signing import cosign, signed_observation

if TYPE_CHECKING:
    from wellhead.devkit.fleet import AgentFleet


class ReportSource(Protocol):
    """Produces each epoch's grid event, report and challenge of a lie."""

    plan: list[EpochPlan]

    def grid_event(self, plan: EpochPlan, result: DemoResult) -> None:
        """Declares the grid event over the last `plan.curtailed_bps` of the epoch, and records it in `result`."""

    def report(self, plan: EpochPlan, result: DemoResult) -> None:
        """Leaves the chain just past the epoch's end with its report accepted (or with none, as planned)."""

    def challenge(self, plan: EpochPlan) -> None:
        """Has an honest attestor challenge the epoch's accepted report, which carries `plan.liar`'s lie."""

    def close(self) -> None:
        """Stops whatever the source runs."""


class ScriptedReports:
    """Attestors scripted by the plan: each signs its own observation; two honest ones co-sign."""

    plan = PLAN

    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario

    def grid_event(self, plan: EpochPlan, result: DemoResult) -> None:
        """The operator posts the grid operator's phone notice: the last `curtailed_bps` of the epoch."""
        s = self.s
        end = s.epoch_end(plan.epoch)
        notice = f"{plan.grid_event}: curtail flexible load, asset {s.asset_id}".encode()
        event = GridEvent(
            assetId=s.asset_id,
            eventId=grid_event_id(plan.grid_event),
            source=GridEventSource.MANUAL,
            startsAt=end - 3600 * plan.curtailed_bps // 10_000,
            endsAt=end,
            payloadHash=payload_hash(notice),
        )
        signature = sign_grid_event(event, s.p.chain_id, s.p.grid.address, s.a.operator)
        s.send(s.a.admin, s.p.grid.functions.declareEvent(event.as_tuple(), signature))
        declared = declaration_id(s.asset_id, event.event_id, s.a.operator.address)
        result.grid_events.append(
            GridEventRow(
                plan.grid_event, "operator-signed notice", event.starts_at, event.ends_at, plan.epoch, declared
            )
        )

    def report(self, plan: EpochPlan, result: DemoResult) -> None:
        s = self.s
        s.warp_to(s.epoch_end(plan.epoch))
        if plan.uptime_bps is None:
            return
        s.retire_certificates(plan.epoch)
        grid = next((g.declaration for g in result.grid_events if g.epoch == plan.epoch), ZERO32)
        signed = []
        for i, attestor in enumerate(s.a.attestors[: plan.observers]):
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
                evidenceHash=keccak(text=f"evidence:{s.asset_id}:{plan.epoch}:{i}"),
            )
            signed.append(signed_observation(s.p, s.asset_id, plan.epoch, observation, attestor, grid))
        report = build_report(s.asset_id, plan.epoch, grid, signed)
        # two honest attestors co-sign after checking every observation's signature (f + 1 = 2)
        cosigners = [a for i, a in enumerate(s.a.attestors[: plan.observers]) if i + 1 != plan.liar][:2]
        s.send(s.a.attestors[0], s.p.oracle.functions.submitReport(report.as_tuple(), cosign(s.p, report, cosigners)))

    def challenge(self, plan: EpochPlan) -> None:
        """Checker 1 challenges (scripted); the agents do it themselves."""
        s, oracle = self.s, self.s.p.oracle
        challenger = s.a.attestors[1]
        s.send(challenger, s.p.stablecoin.functions.approve(oracle.address, 2**256 - 1))
        s.send(challenger, oracle.functions.challenge(s.asset_id, plan.epoch))

    def close(self) -> None:
        """Nothing runs beside the chain."""


class AgentReports:
    """Real site agents (a site agent and its checkers) measure a simulated site; the plan only breaks GPUs,
    makes a checker lie or takes the agents offline."""

    plan = AGENT_PLAN

    def __init__(self, scenario: Scenario, fleet: AgentFleet) -> None:
        self.s = scenario
        self.fleet = fleet

    def grid_event(self, plan: EpochPlan, result: DemoResult) -> None:
        """The grid operator's VTN sends the event and the site agent's VEN attests it."""
        s = self.s
        end = s.epoch_end(plan.epoch)
        seconds = 3600 * plan.curtailed_bps // 10_000
        self.fleet.call_grid_event(plan.grid_event, end - seconds, seconds)
        program_id = f"{self.fleet.vtn_id}/{plan.grid_event}"
        declared = declaration_id(s.asset_id, grid_event_id(program_id), self.fleet.agents[0].signer.address)
        result.grid_events.append(
            GridEventRow(
                program_id, "OpenADR, VTN-signed, attested by the site agent", end - seconds, end, plan.epoch, declared
            )
        )

    def report(self, plan: EpochPlan, result: DemoResult) -> None:
        s, fleet = self.s, self.fleet
        s.warp_to(s.epoch_end(plan.epoch) + 60)  # one sampling interval past the end
        if plan.uptime_bps is None:
            return
        fleet.fail_gpus(plan.failed_gpus)
        start = s.epoch_end(plan.epoch) - 3600
        fleet.export_pool_earnings(start, start + 3600)
        s.retire_certificates(plan.epoch)
        if plan.liar:
            fleet.lie(plan.liar, start, start + 3600)
        if not fleet.report(lambda: StoredReport.read(s.p.oracle, s.asset_id, plan.epoch).exists):
            raise RuntimeError(f"the site agents did not report epoch {plan.epoch}")
        fleet.fail_gpus(())

    def challenge(self, plan: EpochPlan) -> None:
        """Waits for a checker to challenge the lie on its own."""
        s = self.s
        challenged = self.fleet.report(
            lambda: StoredReport.read(s.p.oracle, s.asset_id, plan.epoch).status == ReportStatus.CHALLENGED
        )
        if not challenged:
            raise RuntimeError(f"no checker challenged the lie in epoch {plan.epoch}")

    def close(self) -> None:
        self.fleet.close()
