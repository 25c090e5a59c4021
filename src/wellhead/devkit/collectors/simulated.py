"""A simulated GPU site for the devnet and tests: seeded, deterministic in time, and realistic enough to
exercise everything the real collectors see.

- a daily load curve (power between idle and the GPU's maximum);
- GPU faults: some GPU-hours have an XID fault for part of the hour (idle power, unhealthy);
- a node (8 GPUs) that goes dark for part of some hours (no readings at all);
- energy counters that reset when the "driver reloads" (every few days per GPU);
- a facility meter at a PUE around 1.25 plus a base load;
- on a hybrid site, Bitcoin miners on their own feeder that take the power the GPUs leave (more at night);
- a contracted solar generator (a PPA) with its export meter: a half-sine from 06:00 to 18:00 UTC;
- curtailment windows (a schedule file the site's curtail command writes): inside one, the miners stop
  and the last `gpus` GPUs drop to idle, and the facility meter shows it.

Every reading is a pure function of (seed, time), so the simulation can be replayed for any past instant.
`hide_faults` makes a dishonest site that reports faulty GPUs as healthy (for checker tests);
`noise_bps` adds a calibration error (a fixed bias per GPU), as an independent checker's instruments have.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from wellhead.agent.collectors import Reading, register_collector
from wellhead.agent.inventory import Inventory
from wellhead.agent.samples import HEALTHY, MISSING, UNHEALTHY, GpuTick, MeterTick

if TYPE_CHECKING:
    from wellhead.agent.config import SimulatedConfig
    from wellhead.agent.terms import SiteTerms

DAY = 86_400
T0 = 1_600_000_000
IDLE_W = 70.0


def _unit(seed: int, *keys: int) -> float:
    """A deterministic uniform number in [0, 1) from (seed, keys)."""
    h = hashlib.blake2b(repr((seed, *keys)).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64


@dataclass
class SimulatedSite:
    name: str = "simulated"
    seed: int = 7
    gpus: int = 64
    max_watts: int = 700
    fault_rate: float = 0.02  # share of GPU-hours with an XID fault
    dark_rate: float = 0.05  # share of node-hours in which one node goes dark for a while
    reset_days: float = 3.0
    pue: float = 1.25
    base_load_w: float = 2_000.0
    failed_gpus: tuple[int, ...] = ()  # GPUs that are broken for good: idle power, XID errors
    failed_between: tuple[int, int] | None = None  # when set, `failed_gpus` are broken only in [start, end)
    hide_faults: bool = False
    noise_bps: int = 0
    mining_kw: float = 0.0
    solar_kw: float = 0.0
    curtail_schedule: Path | None = None
    uuids: list[str] = field(default_factory=list)  # the GPUs' names, in slot order (the site's inventory)
    replayable: bool = True
    _schedule: tuple[float, list[tuple[int, int, int]]] = field(default=(-1.0, []), repr=False)

    def __post_init__(self) -> None:
        if not self.uuids:
            self.uuids = Inventory.synthetic_for(self.gpus).uuids
        idx = np.arange(self.gpus)
        self._phase = np.array([_unit(self.seed, 1, int(i)) for i in idx]) * self.reset_days * DAY
        self._load_offset = np.array([_unit(self.seed, 2, int(i)) for i in idx]) * 0.1
        self._bias = 1 + (np.array([_unit(self.seed, 9, int(i)) for i in idx]) - 0.5) * 2e-4 * self.noise_bps

    # ------------------------------------------------------------------ physics
    def _energy_j(self, t: npt.NDArray[np.float64] | float) -> npt.NDArray[np.float64]:
        """Integral of power from T0 to t (J), per GPU: load(t) = 0.55 + offset + 0.3 sin(2 pi t / day)."""
        s = np.asarray(t, dtype=np.float64) - T0
        span = self.max_watts - IDLE_W
        mean = 0.55 + self._load_offset
        wave = 0.3 * DAY / (2 * math.pi) * (1 - np.cos(2 * math.pi * s / DAY))
        energy: npt.NDArray[np.float64] = IDLE_W * s + span * (mean * s + wave)
        return energy

    def _mining_j(self, t: float) -> float:
        """Integral of the miners' power from T0 (J): mining_kw x (0.5 - 0.3 sin), the GPUs' load mirrored."""
        s = t - T0
        wave = 0.3 * DAY / (2 * math.pi) * (1 - math.cos(2 * math.pi * s / DAY))
        return self.mining_kw * 1000 * (0.5 * s - wave)

    def _solar_j(self, t: float) -> float:
        """Integral of the generator's export from T0 (J): a half-sine of peak solar_kw from 06:00 to 18:00 UTC."""

        def since_1970(u: float) -> float:
            days, into = divmod(u, DAY)
            lit = min(max(into - DAY / 4, 0.0), DAY / 2)  # seconds of daylight so far that day
            half_day = self.solar_kw * 1000 * (DAY / 2) / math.pi
            return days * 2 * half_day + half_day * (1 - math.cos(math.pi * lit / (DAY / 2)))

        return since_1970(t) - since_1970(T0)

    def _windows(self) -> list[tuple[int, int, int]]:
        """Curtailment windows (start, end, GPUs shed), re-read when the schedule file changes."""
        path = self.curtail_schedule
        if path is None or not path.exists():
            return []
        mtime = path.stat().st_mtime
        if mtime != self._schedule[0]:
            rows = json.loads(path.read_text() or "[]")
            self._schedule = (mtime, [(int(r["startsAt"]), int(r["endsAt"]), int(r["gpus"])) for r in rows])
        return self._schedule[1]

    def _gpu_shed_j(self, t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Energy per GPU not drawn up to `t` (one instant per GPU) inside curtailment windows."""
        shed_j = np.zeros(self.gpus)
        for start, end, shed in self._windows():
            b = np.clip(t, start, end)
            above_idle = self._energy_j(b) - self._energy_j(float(start)) - IDLE_W * (b - start)
            shed_j[self.gpus - min(shed, self.gpus) :] += above_idle[self.gpus - min(shed, self.gpus) :]
        return shed_j

    def _mining_shed_j(self, t: float) -> float:
        """Energy the miners did not draw up to `t`: they stop for every curtailment window."""
        return sum(
            self._mining_j(min(float(end), t)) - self._mining_j(float(start))
            for start, end, _ in self._windows()
            if t > start
        )

    def _curtailed(self, ts: int) -> int:
        return max((shed for start, end, shed in self._windows() if start <= ts < end), default=-1)

    def _power_w(self, ts: int) -> npt.NDArray[np.float64]:
        load = 0.55 + self._load_offset + 0.3 * math.sin(2 * math.pi * (ts - T0) / DAY)
        return IDLE_W + (self.max_watts - IDLE_W) * load

    def _faulty(self, ts: int) -> npt.NDArray[np.bool_]:
        hour = ts // 3600
        out = np.zeros(self.gpus, dtype=bool)
        window = self.failed_between
        if window is None or window[0] <= ts < window[1]:
            out[[g for g in self.failed_gpus if g < self.gpus]] = True
        for g in range(self.gpus):
            if _unit(self.seed, 3, g, hour) < self.fault_rate:
                start = _unit(self.seed, 4, g, hour) * 3600
                length = 300 + _unit(self.seed, 5, g, hour) * 1800
                out[g] |= start <= ts % 3600 < start + length
        return out

    def _dark(self, ts: int) -> npt.NDArray[np.bool_]:
        hour = ts // 3600
        out = np.zeros(self.gpus, dtype=bool)
        nodes = max(1, self.gpus // 8)
        if _unit(self.seed, 6, hour) < self.dark_rate:
            node = int(_unit(self.seed, 7, hour) * nodes)
            start = _unit(self.seed, 8, hour) * 2400
            if start <= ts % 3600 < start + 1200:
                out[node * 8 : node * 8 + 8] = True
        return out

    # ------------------------------------------------------------------ collector
    def collect(self, ts: int) -> Reading:
        power = self._power_w(ts)
        faulty = self._faulty(ts)
        dark = self._dark(ts)
        last_reset = np.floor((ts - T0 - self._phase) / (self.reset_days * DAY)) * self.reset_days * DAY
        last_reset = last_reset + T0 + self._phase
        shed_j = self._gpu_shed_j(np.full(self.gpus, float(ts)))
        counter_j = self._energy_j(ts) - self._energy_j(last_reset) - (shed_j - self._gpu_shed_j(last_reset))
        if self.noise_bps:
            # an independent instrument's calibration error: a fixed bias per GPU, so deltas stay consistent
            counter_j = counter_j * self._bias
        energy_mj = (counter_j * 1000).astype(np.int64)
        health = np.where(faulty & ~self.hide_faults, UNHEALTHY, HEALTHY).astype(np.int8)
        power = np.where(faulty, IDLE_W, power)
        curtailed = self._curtailed(ts)
        if curtailed >= 0:
            power[self.gpus - min(curtailed, self.gpus) :] = IDLE_W
        util = np.where(faulty, 0, (100 * (power - IDLE_W) / (self.max_watts - IDLE_W))).astype(np.int64)
        health[dark] = MISSING
        power = np.where(dark, np.nan, power)
        energy_mj[dark] = -1
        util[dark] = -1
        gpus = GpuTick(
            power_w=power.astype(np.float64), energy_mj=energy_mj, util_pct=util, health=health, uuids=self.uuids
        )
        total_j = float((self._energy_j(ts) - shed_j).sum())
        mining_j = self._mining_j(ts) - self._mining_shed_j(float(ts))
        meter_wh = int((total_j * self.pue + mining_j + self.base_load_w * (ts - T0)) / 3600) % 2**32
        mining_w = (
            0.0 if curtailed >= 0 else self.mining_kw * 1000 * (0.5 - 0.3 * math.sin(2 * math.pi * (ts - T0) / DAY))
        )
        meter_power = float(np.nansum(power) * self.pue + mining_w + self.base_load_w)
        reading = Reading(gpus=gpus, meter=MeterTick(power_w=meter_power, energy_wh=meter_wh))
        if self.mining_kw:
            reading.mining = MeterTick(power_w=mining_w, energy_wh=int(mining_j / 3600) % 2**32)
        if self.solar_kw:
            reading.generator = MeterTick(power_w=None, energy_wh=int(self._solar_j(float(ts)) / 3600) % 2**32)
        return reading

    def close(self) -> None:
        pass


@register_collector("simulated", gpus=True, real_uuids=False)
def from_config(c: SimulatedConfig, terms: SiteTerms, inventory: Inventory) -> SimulatedSite:
    return SimulatedSite(
        uuids=inventory.uuids,
        seed=c.seed,
        gpus=terms.gpus,
        max_watts=terms.max_watts,
        fault_rate=c.fault_rate,
        dark_rate=c.dark_rate,
        pue=c.pue,
        hide_faults=c.hide_faults,
        failed_gpus=tuple(c.failed_gpus),
        noise_bps=c.noise_bps,
        mining_kw=c.mining_kw,
        solar_kw=c.solar_kw,
        curtail_schedule=c.curtail_schedule,
    )
