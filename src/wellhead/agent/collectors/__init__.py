"""Telemetry collectors, one interface: `collect(ts)` returns GPU and/or meter readings for that instant.

A collector that cannot read raises CollectorError: the sampler records the tick as missing (unproven),
counts it in /metrics, and goes on. `replayable` collectors (the simulated site) can answer for past
instants, so an agent restarted after a crash backfills what it missed.

Collectors register themselves by kind (`@register_collector("dcgm", gpus=True)` on a factory taking the
collector's config and the asset's terms), the way node_exporter's collectors do: adding one touches its own
module and its config model. The registry imports `wellhead.agent.collectors.<kind>`, or the module a
`wellhead.collectors` entry point of that name names (the devkit's simulated site, a third party's collector),
only when a config names that kind, so an agent never loads a driver it does not use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from wellhead.agent.samples import GpuTick, MeterTick
from wellhead.core.errors import ConfigError, WellheadError

if TYPE_CHECKING:
    from wellhead.agent.config import AgentSettings
    from wellhead.agent.terms import SiteTerms


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


Factory = Callable[[Any, "SiteTerms"], Collector]
F = TypeVar("F", bound=Factory)
_FACTORIES: dict[str, Factory] = {}
GPU_COLLECTORS: set[str] = set()  # collectors whose readings are per GPU (a failure misses every GPU)
ENTRY_POINTS = "wellhead.collectors"  # plug-in collectors: name = the config's type, value = the module


def register_collector(kind: str, *, gpus: bool = False) -> Callable[[F], F]:
    """Registers `factory(config, terms) -> Collector` for the config's `type: kind`."""

    def decorate(factory: F) -> F:
        _FACTORIES[kind] = factory
        if gpus:
            GPU_COLLECTORS.add(kind)
        return factory

    return decorate


def collector_factory(kind: str) -> Factory:
    """The registered factory for `kind`, importing its module on first use: the built-in one of that name, or
    the module a `wellhead.collectors` entry point of that name names."""
    modules = [f"{__name__}.{kind}", *(ep.value for ep in entry_points(group=ENTRY_POINTS, name=kind))]
    for module in modules:
        if kind in _FACTORIES:
            break
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise ConfigError(f"collector {kind!r} needs the Python module {exc.name!r}: install it") from None
    if kind not in _FACTORIES:
        raise ConfigError(f"no collector of type {kind!r}")
    return _FACTORIES[kind]


def build_collectors(settings: AgentSettings, terms: SiteTerms) -> list[Collector]:
    """The collectors the settings name, in their order."""
    return [collector_factory(c.type)(c, terms) for c in settings.collectors]
