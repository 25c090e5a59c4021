"""Epochs: each ended epoch aggregated from its ticks into the values every attestor signs, with evidence."""

from __future__ import annotations

import logging

from wellhead.agent.aggregate import (
    Aggregation,
    EpochMeasurement,
    EpochWindow,
    aggregate,
    curtailment_compliance,
)
from wellhead.agent.chain_reads import ChainReads
from wellhead.agent.evidence import write_evidence
from wellhead.agent.green import GreenInputs, GreenValues, GridFeed, PoolEarnings, green_values
from wellhead.agent.openadr import CurtailmentDesk, ReceivedEvent, curtailment_in
from wellhead.agent.phases import AgentContext
from wellhead.agent.store import OutboxStatus
from wellhead.chain.grid import declaration_id

log = logging.getLogger("wellhead.agent")


class EpochCloser:
    """Closes every epoch that ended one sample interval ago: measures it, or abandons it past its deadline."""

    name = "epochs"
    failures = 0  # it isolates no failures of its own: a failing pass raises

    def __init__(
        self,
        ctx: AgentContext,
        reads: ChainReads,
        collectors: list[str],
        sources: tuple[GridFeed | None, PoolEarnings | None],
        curtailment: CurtailmentDesk | None,
    ) -> None:
        self.ctx = ctx
        self.reads = reads
        self.collectors = collectors
        self.grid_feed, self.earnings = sources
        self.curtailment = curtailment

    def run(self, now: float) -> None:
        ctx = self.ctx
        nxt = int(ctx.store.get("next_epoch") or 0)
        while True:
            start, end = ctx.terms.bounds(nxt)
            if now < end + ctx.settings.sample_interval:
                return
            if ctx.store.report(ctx.asset_id, nxt) is None:
                if now > end + ctx.terms.report_deadline:
                    ctx.store.upsert_report(ctx.asset_id, nxt, OutboxStatus.ABANDONED)
                    ctx.metrics.abandoned.inc()
                    log.warning("epoch past its report deadline: not reported", extra={"epoch": nxt})
                else:
                    self.measure(nxt, start, end)
            nxt += 1
            ctx.store.put("next_epoch", str(nxt))
            ctx.store.prune_ticks(start - ctx.settings.sample_interval)

    def measure(self, epoch: int, start: int, end: int) -> None:
        """Aggregates the epoch, writes its evidence and stores the values to sign."""
        ctx = self.ctx
        interval = ctx.settings.sample_interval
        window = EpochWindow(ctx.asset_id, epoch, start, end, interval, ctx.terms.gpus, ctx.terms.max_watts)
        agg = aggregate(window, ctx.store.ticks(start - interval, end), ctx.settings.pue_band)
        m = agg.measurement
        green = self._green(m, epoch, start, end)
        mining_revenue, earnings_rows = self._mining_revenue(start, end)
        curtailed_bps, grid_event = (0, b"\x00" * 32)
        extra: dict[str, object] = {
            "agent": ctx.signer.address,
            "mode": ctx.settings.mode,
            "collectors": self.collectors,
            "green": green.evidence,
            "mining": {"energy_wh": m.mining_energy_wh, "revenue": mining_revenue, "earnings_rows": earnings_rows},
        }
        if self.curtailment is not None:
            events = self.curtailment.events()
            curtailed_bps, program_event = curtailment_in(events, start, end)
            if curtailed_bps:
                # reports name the declaration this agent's VEN made on chain, scoped to the asset and signer
                grid_event = declaration_id(ctx.asset_id, program_event, ctx.signer.address)
            extra["curtailment"] = self._compliance(agg, window, events)
        evidence = write_evidence(agg, window, ctx.settings.evidence_dir, extra, ctx.inventory.uuids)
        ctx.store.record_evidence(evidence.hex(), epoch, end)
        values: dict[str, object] = {
            "gridEventId": "0x" + grid_event.hex(),
            "uptimeBps": m.uptime_bps,
            "curtailedBps": curtailed_bps,
            "gpuEnergyWh": m.gpu_energy_wh,
            "facilityEnergyWh": m.facility_energy_wh,
            "miningEnergyWh": m.mining_energy_wh,
            "miningRevenue": mining_revenue,
            "renewableBps": green.renewable_bps,
            "carbonGramsPerKwh": green.carbon_g_per_kwh,
            "evidenceHash": "0x" + evidence.hex(),
        }
        ctx.store.upsert_report(
            ctx.asset_id,
            epoch,
            OutboxStatus.MEASURED,
            report=values,
            measurement=m.summary(),
            evidence_hash=evidence.hex(),
        )
        self._record(epoch, m)

    def _record(self, epoch: int, m: EpochMeasurement) -> None:
        metrics = self.ctx.metrics
        if m.rejected_counter_readings:
            metrics.counter_rejections.inc(m.rejected_counter_readings)
        metrics.last_measured_epoch.set(epoch)
        metrics.epoch_uptime.set(m.uptime_bps)
        log.info(
            "epoch measured",
            extra={
                "epoch": epoch,
                "uptime_bps": m.uptime_bps,
                "gpu_wh": m.gpu_energy_wh,
                "facility_wh": m.facility_energy_wh,
                "missing_gpu_slots": m.missing_gpu_slots,
                "flags": m.flags,
            },
        )

    def _green(self, m: EpochMeasurement, epoch: int, start: int, end: int) -> GreenValues:
        cfg = self.ctx.settings.green
        return green_values(
            GreenInputs(
                facility_wh=m.facility_energy_wh,
                generator_wh=m.generator_energy_wh,
                ppa_share_bps=cfg.ppa_share_bps,
                certificates=self.reads.retired_certificates(epoch) if cfg.certificates else (),
                feed=tuple(self.grid_feed.window(start, end)) if self.grid_feed else (),
                static_renewable_bps=cfg.renewable_bps,
                static_carbon_g_per_kwh=cfg.carbon_g_per_kwh,
            )
        )

    def _mining_revenue(self, start: int, end: int) -> tuple[int, list[list[object]]]:
        """A hybrid site's pool earnings in [start, end), in stablecoin base units, with the rows behind them."""
        if self.earnings is None:
            return 0, []
        return self.earnings.earned(start, end, self.ctx.terms.decimals)

    def _compliance(
        self, agg: Aggregation, window: EpochWindow, events: list[ReceivedEvent]
    ) -> list[dict[str, object]]:
        """For each grid event in the epoch, the load the facility meter shows was shed."""
        out = []
        for e in events:
            if e.overlap(window.start, window.end):
                shed = curtailment_compliance(agg, window, e.starts_at, e.ends_at)
                out.append({"event": e.program_id, **shed})
                if shed.get("measured"):
                    self.ctx.metrics.curtailment_shed.set(float(str(shed["shed_w"])))
        return out
