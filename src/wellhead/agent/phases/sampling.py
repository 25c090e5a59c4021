"""Sampling: every collector read at each aligned instant; the readings merged into one tick in the store."""

from __future__ import annotations

import numpy as np

from wellhead.agent.collectors import GPU_COLLECTORS, Collector, CollectorError, Reading
from wellhead.agent.collectors.bounded import BoundedReads
from wellhead.agent.phases import AgentContext
from wellhead.agent.samples import MISSING, GpuTick, Tick

MAX_BACKFILL_EPOCHS = 3


class Sampler:
    """Takes a tick every `sample_interval` seconds; replayable collectors (the simulated site) backfill what a
    restart missed, up to MAX_BACKFILL_EPOCHS."""

    name = "sampling"
    failures = 0  # it isolates no failures of its own: a failing pass raises

    def __init__(self, ctx: AgentContext, collectors: list[Collector]) -> None:
        self.ctx = ctx
        self.collectors = collectors
        self.reads = BoundedReads(collectors, ctx.settings.sample_interval)  # off this loop, each with a deadline

    def run(self, now: float) -> None:
        ctx = self.ctx
        interval = ctx.settings.sample_interval
        aligned = int(now) - int(now) % interval
        last = ctx.store.last_tick_ts()
        if all(c.replayable for c in self.collectors):
            if last is None:
                start, _ = ctx.terms.bounds(int(ctx.store.get("next_epoch") or 0))
                last = start - 2 * interval
            oldest = aligned - MAX_BACKFILL_EPOCHS * ctx.terms.epoch_length
            instants = range(max(last + interval, oldest), aligned + 1, interval)
        else:
            instants = range(aligned, aligned + 1) if last is None or aligned > last else range(0)
        for ts in instants:
            ctx.store.add_tick(self.collect(ts))

    def collect(self, ts: int) -> Tick:
        """One tick: every collector read, GPU readings put in their inventory slots (see `_place`), and the
        first meter reading of each role kept; a failing collector counts its readings missing."""
        tick = Tick(ts=ts)
        if any(c.name in GPU_COLLECTORS for c in self.collectors):
            tick.gpus = GpuTick.missing(len(self.ctx.inventory))
        for c, reading in zip(self.collectors, self.reads.read_all(ts), strict=True):
            if isinstance(reading, CollectorError):
                self._failed(c, reading)
                continue
            self.ctx.metrics.samples.labels(collector=c.name).inc()
            if reading.failed_targets:
                self._targets_failed(c.name, reading.failed_targets)
            if reading.gpus is not None:
                if tick.gpus is None:
                    tick.gpus = GpuTick.missing(len(self.ctx.inventory))
                self._place(tick.gpus, reading.gpus, c.name)
            self._merge_meters(tick, reading, c.name)
        if tick.gpus is not None:
            self.ctx.metrics.gpus_unattributed.set(tick.gpus.missing_count())
        return tick

    def _failed(self, c: Collector, exc: CollectorError) -> None:
        metrics = self.ctx.metrics
        metrics.collector_errors.labels(collector=c.name).inc()
        metrics.missing.labels(collector=c.name).inc(self.ctx.terms.gpus if c.name in GPU_COLLECTORS else 1)
        self.ctx.warn(f"collector:{c.name}", "collector failed; sample marked missing", error=str(exc))

    def _targets_failed(self, collector: str, failed: list[str]) -> None:
        self.ctx.metrics.target_failures.labels(collector=collector).inc(len(failed))
        self.ctx.warn(
            f"targets:{collector}",
            "targets gave no reading this pass; their GPUs are missing",
            collector=collector,
            failed=len(failed),
            first=failed[0],
        )

    def _place(self, merged: GpuTick, reading: GpuTick, collector: str) -> None:
        """Puts a collector's GPU readings into their slots by UUID. The rule when two collectors read the same
        GPU: the first collector in the config that has a reading for it supplies all of that GPU's values for
        the tick (one instrument's power, counter and health together, never a mix); later collectors fill
        only slots still empty, so a second source (a DCGM scrape behind host NVML, a Prometheus behind
        direct scrapes) covers the GPUs the first one missed. A UUID the inventory does not list, one read
        twice by the same collector, or a series without a UUID is dropped and counted."""
        metrics = self.ctx.metrics
        missing = reading.missing_count()
        if missing:
            metrics.missing.labels(collector=collector).inc(missing)
        uuids = reading.uuids if len(reading.uuids) == reading.gpus else [""] * reading.gpus
        placed = self.ctx.inventory.slot_map(uuids, collector)
        for kind, count in placed.errors.items():
            if count:
                metrics.inventory_errors.labels(collector=collector, kind=kind).inc(count)
                self.ctx.warn(
                    f"inventory:{collector}:{kind}",
                    "GPU readings dropped: not in the inventory by UUID",
                    collector=collector,
                    problem=kind,
                    count=count,
                )
        src = np.nonzero((placed.slots >= 0) & (reading.health != MISSING))[0]
        dst = placed.slots[src]
        empty = merged.health[dst] == MISSING
        src, dst = src[empty], dst[empty]
        merged.power_w[dst] = reading.power_w[src]
        merged.energy_mj[dst] = reading.energy_mj[src]
        merged.util_pct[dst] = reading.util_pct[src]
        merged.health[dst] = reading.health[src]

    def _merge_meters(self, tick: Tick, reading: Reading, collector: str) -> None:
        missing = self.ctx.metrics.missing.labels(collector=collector)
        for role in ("meter", "mining", "generator"):
            meter = getattr(reading, role)
            if meter is not None:
                if meter.energy_wh is None:
                    missing.inc()
                if getattr(tick, role) is None:
                    setattr(tick, role, meter)
