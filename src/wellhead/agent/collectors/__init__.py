"""Telemetry collectors, one interface: `collect(ts)` returns GPU and/or meter readings for that instant.

A collector that cannot read raises CollectorError: the sampler records the tick as missing (unproven),
counts it in /metrics, and goes on. `replayable` collectors (the simulated site) can answer for past
instants, so an agent restarted after a crash backfills what it missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from wellhead.agent.samples import GpuTick, MeterTick
from wellhead.core.errors import WellheadError


class CollectorError(WellheadError, RuntimeError):
    """A collector could not produce a reading (peer down, malformed answer, protocol exception)."""


@dataclass
class Reading:
    gpus: GpuTick | None = None
    meter: MeterTick | None = None
    mining: MeterTick | None = None
    generator: MeterTick | None = None


MeterRole = Literal["facility", "mining", "generator"]


def meter_reading(role: MeterRole, tick: MeterTick) -> Reading:
    """A meter's reading in the slot of its role."""
    if role == "mining":
        return Reading(mining=tick)
    if role == "generator":
        return Reading(generator=tick)
    return Reading(meter=tick)


class Collector(Protocol):
    name: str
    replayable: bool

    def collect(self, ts: int) -> Reading: ...

    def close(self) -> None: ...
