"""One sampling tick of telemetry, as aligned numpy arrays (one entry per GPU).

Missing values are explicit: NaN for power, -1 for counters and utilization, MISSING for health. A missing
value is never zero: it counts as unproven time and is counted in /metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

HEALTHY, UNHEALTHY, MISSING = 1, 0, -1

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
HealthArray = npt.NDArray[np.int8]


@dataclass
class GpuTick:
    """Per-GPU readings of one tick. From a collector, entry i is the GPU named `uuids[i]` (in whatever order
    the collector read them); merged into the store, entry i is the inventory's slot i and `uuids` is empty."""

    power_w: FloatArray  # NaN: missing
    energy_mj: IntArray  # cumulative counter; -1: missing or "not supported"
    util_pct: IntArray  # -1: missing
    health: HealthArray  # HEALTHY / UNHEALTHY / MISSING
    uuids: list[str] = field(default_factory=list)  # "" where a series carried no UUID

    @classmethod
    def missing(cls, gpus: int, uuids: list[str] | None = None) -> GpuTick:
        return cls(
            power_w=np.full(gpus, np.nan),
            energy_mj=np.full(gpus, -1, dtype=np.int64),
            util_pct=np.full(gpus, -1, dtype=np.int64),
            health=np.full(gpus, MISSING, dtype=np.int8),
            uuids=uuids if uuids is not None else [],
        )

    @property
    def gpus(self) -> int:
        return int(self.health.shape[0])

    def missing_count(self) -> int:
        return int(np.count_nonzero(self.health == MISSING))


@dataclass
class MeterTick:
    """A facility meter reading: real power and the cumulative import energy counter."""

    power_w: float | None
    energy_wh: int | None  # cumulative; None: missing


@dataclass
class Tick:
    """Everything sampled at one instant (unix seconds)."""

    ts: int
    gpus: GpuTick | None = None
    meter: MeterTick | None = None  # the facility's import meter: everything the site draws
    mining: MeterTick | None = None  # hybrid sites: the Bitcoin miners' feeder
    generator: MeterTick | None = None  # the contracted renewable generator's export meter (a PPA)
    missing: dict[str, int] = field(default_factory=dict)  # collector -> missing values this tick
