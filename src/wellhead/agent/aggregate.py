"""From sampling ticks to one epoch's report values, with the raw evidence behind them.

Uptime is healthy GPU-time over expected GPU-time. The epoch is cut into slots of the sampling interval;
a GPU counts healthy in a slot only if a sample for that slot says so. A slot without a sample, or a GPU
missing from it, is unproven time: it never counts as healthy. Energy comes from counter deltas; the
delta from the last tick before the epoch to the first inside it belongs to the epoch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from wellhead.agent.counters import CounterTracker, ScalarCounter
from wellhead.agent.samples import HEALTHY, MISSING, MeterTick, Tick
from wellhead.core.constants import BPS

MJ_PER_WH = 3_600_000


@dataclass(frozen=True)
class EpochWindow:
    asset_id: int
    epoch: int
    start: int  # unix seconds, inclusive
    end: int  # exclusive
    interval: int  # sampling interval, seconds
    gpus: int
    max_watts_per_gpu: int

    @property
    def slots(self) -> int:
        return -(-(self.end - self.start) // self.interval)

    def slot_of(self, ts: int) -> int | None:
        if ts < self.start or ts >= self.end:
            return None
        return (ts - self.start) // self.interval


@dataclass
class EpochMeasurement:
    """What the agent measured for one epoch; the report fields plus what an auditor needs."""

    asset_id: int
    epoch: int
    uptime_bps: int
    gpu_energy_wh: int
    facility_energy_wh: int
    healthy_gpu_slots: int
    expected_gpu_slots: int
    unhealthy_gpu_slots: int
    missing_gpu_slots: int
    sampled_slots: int
    rejected_counter_readings: int
    meter_missing_slots: int
    pue_milli: int | None  # facility / GPU energy x 1000, None without GPU energy
    mining_energy_wh: int = 0  # hybrid sites: the Bitcoin miners' feeder
    generator_energy_wh: int = 0  # the contracted generator's export (before the site's PPA share)
    gpu_wh_per_delivered_hour: int | None = None  # GPU energy per healthy GPU-hour, None without any
    flags: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Aggregation:
    measurement: EpochMeasurement
    ts: npt.NDArray[np.int64]
    power_w: npt.NDArray[np.float32]
    energy_mj: npt.NDArray[np.int64]
    health: npt.NDArray[np.int8]
    meter_wh: npt.NDArray[np.int64]
    mining_wh: npt.NDArray[np.int64]
    generator_wh: npt.NDArray[np.int64]


class _MeterSeries:
    """One cumulative meter's readings over the epoch's slots: the energy that falls in the epoch and the
    raw counter per slot (-1 missing) for the evidence."""

    def __init__(self, slots: int, reset_floor: int) -> None:
        self.counter = ScalarCounter(reset_floor=reset_floor)
        self.raw = np.full(slots, -1, dtype=np.int64)
        self.wh = 0

    def update(self, slot: int | None, tick: MeterTick | None) -> None:
        if tick is None:
            return
        delta, glitch = self.counter.update(tick.energy_wh)
        if slot is not None and tick.energy_wh is not None and not glitch:
            self.wh += delta
            self.raw[slot] = tick.energy_wh

    def missing_slots(self) -> int:
        return int(np.count_nonzero(self.raw < 0))


def aggregate(window: EpochWindow, ticks: Iterable[Tick], pue_band: tuple[float, float] = (1.0, 2.5)) -> Aggregation:
    """Aggregates `ticks` (sorted by time, may start one interval before the window) into the epoch."""
    g, n = window.gpus, window.slots
    gpu_counter = CounterTracker(g, reset_floor=window.max_watts_per_gpu * window.interval * 1_000 * 2)
    floor = g * window.max_watts_per_gpu * window.interval
    facility, mining, generator = (_MeterSeries(n, floor) for _ in range(3))
    health = np.full((n, g), MISSING, dtype=np.int8)
    power = np.full((n, g), np.nan, dtype=np.float32)
    energy = np.full((n, g), -1, dtype=np.int64)
    slot_ts = window.start + np.arange(n, dtype=np.int64) * window.interval
    energy_mj = 0
    rejected = 0
    for tick in ticks:
        slot = window.slot_of(tick.ts)
        if tick.gpus is not None:
            delta, glitch = gpu_counter.update(tick.gpus.energy_mj)
            if slot is not None:
                energy_mj += int(delta.sum())
                rejected += int(glitch.sum())
                h = tick.gpus.health.copy()
                h[glitch] = MISSING  # a counter going backwards makes the whole reading suspect
                health[slot] = h
                power[slot] = tick.gpus.power_w
                energy[slot] = tick.gpus.energy_mj
        facility.update(slot, tick.meter)
        mining.update(slot, tick.mining)
        generator.update(slot, tick.generator)

    healthy = int(np.count_nonzero(health == HEALTHY))
    missing = int(np.count_nonzero(health == MISSING))
    expected = g * n
    gpu_wh, facility_wh, pue, flags = _checked_energy(window, energy_mj, facility, mining.wh, pue_band)
    meter_missing = facility.missing_slots()
    measurement = EpochMeasurement(
        asset_id=window.asset_id,
        epoch=window.epoch,
        uptime_bps=healthy * BPS // expected if expected else 0,
        gpu_energy_wh=int(gpu_wh),
        facility_energy_wh=int(facility_wh),
        healthy_gpu_slots=healthy,
        expected_gpu_slots=expected,
        unhealthy_gpu_slots=int(np.count_nonzero(health == 0)),
        missing_gpu_slots=missing,
        sampled_slots=int(np.count_nonzero((health != MISSING).any(axis=1))),
        rejected_counter_readings=rejected,
        meter_missing_slots=meter_missing,
        pue_milli=pue,
        mining_energy_wh=int(mining.wh),
        generator_energy_wh=int(generator.wh),
        # all GPU energy (idle faulty GPUs too) over healthy GPU-hours: mJ / (GPU-seconds x 1000) = Wh per GPU-hour
        gpu_wh_per_delivered_hour=int(energy_mj // (healthy * window.interval * 1000)) if healthy else None,
        flags=flags,
    )
    return Aggregation(measurement, slot_ts, power, energy, health, facility.raw, mining.raw, generator.raw)


def _checked_energy(
    window: EpochWindow, energy_mj: int, facility: _MeterSeries, mining_wh: int, pue_band: tuple[float, float]
) -> tuple[int, int, int | None, list[str]]:
    """GPU and facility energy (Wh) made physically consistent, the PUE (x1000), and a flag for each correction or
    doubt: GPU energy capped at the rated maximum, the facility at least GPUs plus miners."""
    flags: list[str] = []
    gpu_wh = energy_mj // MJ_PER_WH
    max_wh = window.gpus * window.max_watts_per_gpu * (window.end - window.start) // 3600
    if gpu_wh > max_wh:
        flags.append(f"gpu energy {gpu_wh} Wh above the physical maximum {max_wh} Wh: capped")
        gpu_wh = max_wh
    facility_wh = facility.wh
    meter_missing = facility.missing_slots()
    if meter_missing:
        flags.append(f"facility meter missing in {meter_missing} of {window.slots} slots")
    if facility_wh < gpu_wh + mining_wh:
        flags.append(
            f"facility energy {facility_wh} Wh below GPU {gpu_wh} + mining {mining_wh} Wh: reported as their sum"
        )
        facility_wh = gpu_wh + mining_wh
    pue = None
    if gpu_wh > 0:
        pue = facility_wh * 1000 // gpu_wh
        low, high = pue_band
        if not (low * 1000 <= pue <= high * 1000):
            flags.append(f"PUE {pue / 1000:.3f} outside the plausible band {low}-{high}")
    return gpu_wh, facility_wh, pue, flags


def curtailment_compliance(agg: Aggregation, window: EpochWindow, starts_at: int, ends_at: int) -> dict[str, Any]:
    """How much load the site shed during a grid event, from the facility meter: its mean power in the epoch's
    slots inside the event against the slots outside it (the baseline). One slot on each side of each edge
    is left out (the load ramps, and a reading may be taken up to a sampling interval off its slot), and so
    are slots without two consecutive meter readings."""
    wh = np.diff(agg.meter_wh.astype(np.float64))
    valid = (agg.meter_wh[:-1] >= 0) & (agg.meter_wh[1:] >= 0) & (wh >= 0)
    starts, step = agg.ts[:-1], window.interval
    inside = (starts >= starts_at + step) & (starts + step <= ends_at)
    outside = (starts + 2 * step <= starts_at) | (starts >= ends_at + step)
    during, baseline = wh[valid & inside], wh[valid & outside]
    if not len(during) or not len(baseline):
        return {"measured": False, "reason": "no meter readings both inside and outside the event in this epoch"}
    to_w = 3600 / window.interval
    during_w, baseline_w = float(during.mean() * to_w), float(baseline.mean() * to_w)
    return {
        "measured": True,
        "baseline_w": round(baseline_w),
        "during_w": round(during_w),
        "shed_w": round(baseline_w - during_w),
        "shed_bps": int((baseline_w - during_w) * BPS // baseline_w) if baseline_w > 0 else 0,
        "slots": {"during": len(during), "baseline": len(baseline)},
    }
