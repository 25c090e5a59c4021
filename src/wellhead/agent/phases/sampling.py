"""Sampling: every collector read at each aligned instant; the readings merged into one tick in the store."""

from __future__ import annotations

from wellhead.agent.collectors import GPU_COLLECTORS, Collector, CollectorError, Reading
from wellhead.agent.phases import AgentContext
from wellhead.agent.samples import GpuTick, Tick

MAX_BACKFILL_EPOCHS = 3


class Sampler:
    """Takes a tick every `sample_interval` seconds; replayable collectors (the simulated site) backfill what a
    restart missed, up to MAX_BACKFILL_EPOCHS."""

    name = "sampling"

    def __init__(self, ctx: AgentContext, collectors: list[Collector]) -> None:
        self.ctx = ctx
        self.collectors = collectors

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
        """One tick: the first reading of each kind wins; a failing collector counts its readings missing."""
        tick = Tick(ts=ts)
        for c in self.collectors:
            try:
                reading: Reading = c.collect(ts)
            except CollectorError as exc:
                self._failed(c, exc)
                continue
            self.ctx.metrics.samples.labels(collector=c.name).inc()
            self._merge(tick, reading, c.name)
        return tick

    def _failed(self, c: Collector, exc: CollectorError) -> None:
        metrics = self.ctx.metrics
        metrics.collector_errors.labels(collector=c.name).inc()
        metrics.missing.labels(collector=c.name).inc(self.ctx.terms.gpus if c.name in GPU_COLLECTORS else 1)
        self.ctx.warn(f"collector:{c.name}", "collector failed; sample marked missing", error=str(exc))

    def _merge(self, tick: Tick, reading: Reading, collector: str) -> None:
        missing = self.ctx.metrics.missing.labels(collector=collector)
        if reading.gpus is not None:
            gpus = reading.gpus
            if gpus.gpus != self.ctx.terms.gpus:
                gpus = resized(gpus, self.ctx.terms.gpus)
            if gpus.missing_count():
                missing.inc(gpus.missing_count())
            if tick.gpus is None:
                tick.gpus = gpus
        for role in ("meter", "mining", "generator"):
            meter = getattr(reading, role)
            if meter is not None:
                if meter.energy_wh is None:
                    missing.inc()
                if getattr(tick, role) is None:
                    setattr(tick, role, meter)


def resized(gpus: GpuTick, n: int) -> GpuTick:
    """`gpus` cut or padded (with missing slots) to the asset's `n` GPUs."""
    out = GpuTick.missing(n)
    k = min(n, gpus.gpus)
    out.power_w[:k] = gpus.power_w[:k]
    out.energy_mj[:k] = gpus.energy_mj[:k]
    out.util_pct[:k] = gpus.util_pct[:k]
    out.health[:k] = gpus.health[:k]
    return out
