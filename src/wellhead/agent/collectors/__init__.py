"""Telemetry collectors, one interface: `collect(ts)` returns GPU and/or meter readings for that instant.

A collector that cannot read raises CollectorError: the sampler records the tick as missing (unproven),
counts it in /metrics, and goes on. `replayable` collectors (the simulated site) can answer for past
instants, so an agent restarted after a crash backfills what it missed.

Collectors register themselves by kind (`@register_collector("dcgm", gpus=True)` on a factory taking the
collector's config, the asset's terms and its GPU inventory), the way node_exporter's collectors do: adding
one touches its own module and its config model. The registry imports `wellhead.agent.collectors.<kind>`,
or the module a `wellhead.collectors` entry point of that name names (the devkit's simulated site, a third
party's collector), only when a config names that kind, so an agent never loads a driver it does not use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from wellhead.agent.samples import GpuTick, MeterTick
from wellhead.core.errors import ConfigError, WellheadError

if TYPE_CHECKING:
    from wellhead.agent.config import AgentSettings
    from wellhead.agent.inventory import Inventory
    from wellhead.agent.terms import SiteTerms


class CollectorError(WellheadError, RuntimeError):
    """A collector could not produce a reading (peer down, malformed answer, protocol exception)."""


@dataclass
class Reading:
    gpus: GpuTick | None = None
    meter: MeterTick | None = None
    mining: MeterTick | None = None
    generator: MeterTick | None = None
    failed_targets: list[str] = field(default_factory=list)  # "<target>: <why>" for each peer that gave nothing


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


Factory = Callable[[Any, "SiteTerms", "Inventory"], Collector]
F = TypeVar("F", bound=Factory)
_FACTORIES: dict[str, Factory] = {}
GPU_COLLECTORS: set[str] = set()  # collectors whose readings are per GPU (a failure misses every GPU)
NAMES_GPUS_ITSELF: set[str] = set()  # GPU collectors that report the inventory's own names (a simulated site)
ENTRY_POINTS = "wellhead.collectors"  # plug-in collectors: name = the config's type, value = the module


def register_collector(kind: str, *, gpus: bool = False, real_uuids: bool = True) -> Callable[[F], F]:
    """Registers `factory(config, terms, inventory) -> Collector` for the config's `type: kind`. A GPU
    collector names each GPU it reads by UUID (`GpuTick.uuids`); one with `real_uuids=False` reports the
    inventory's names back and so can run without a site inventory."""

    def decorate(factory: F) -> F:
        _FACTORIES[kind] = factory
        if gpus:
            GPU_COLLECTORS.add(kind)
            if not real_uuids:
                NAMES_GPUS_ITSELF.add(kind)
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


def build_collectors(settings: AgentSettings, terms: SiteTerms, inventory: Inventory) -> list[Collector]:
    """The collectors the settings name, in their order (which is also their precedence: see the sampler).
    Real GPU collectors need the site's inventory: without one, their UUIDs could not be slotted."""
    factories = [collector_factory(c.type) for c in settings.collectors]
    if inventory.synthetic:
        real = [c.type for c in settings.collectors if c.type in GPU_COLLECTORS and c.type not in NAMES_GPUS_ITSELF]
        if real:
            raise ConfigError(
                f"inventory: the {real[0]} collector names GPUs by UUID; list the asset's {len(inventory)} GPUs "
                "in `inventory` or `inventory_file`"
            )
    return [factory(c, terms, inventory) for factory, c in zip(factories, settings.collectors, strict=True)]
