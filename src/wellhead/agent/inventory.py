"""The asset's GPUs by identity: slot i of every report is the GPU the inventory lists i-th.

A site of many nodes is read by many collectors (NVML on each host, a DCGM exporter per node, one Prometheus
for the whole fleet), each numbering its GPUs 0..7 on its own node. The only name a GPU keeps everywhere is
its UUID (`GPU-8c2f...`, the same in NVML, DCGM and its Prometheus labels), so every reading is put in its
slot by UUID, never by a per-node index. The inventory is checked when the agent starts: a GPU listed twice
or a count that differs from the GPU count registered on chain stops it with one line. At run time, a UUID the
inventory does not list, a GPU read twice by one collector, or a series without a UUID is counted in
`wellhead_agent_inventory_errors_total` and its reading dropped: it proves nothing.

Without an inventory the agent numbers the registered GPUs itself (`GPU-SLOT-00000`, ...); only collectors
that report those synthetic names (the devkit's simulated site) can fill such an inventory, and the agent
refuses to start a real GPU collector without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from wellhead.core.errors import ConfigError

if TYPE_CHECKING:
    from wellhead.agent.config import AgentSettings

SYNTHETIC_PREFIX = "GPU-SLOT-"


@dataclass(frozen=True)
class GpuIdentity:
    uuid: str
    serial: str | None = None  # the board serial, where the site records it (NVML reads it too)
    node: str | None = None  # the host the GPU sits in: for people reading evidence, never for slotting


def normalize_uuid(uuid: str) -> str:
    """UUIDs compare without case or surrounding space (tools print them in either case)."""
    return uuid.strip().lower()


@dataclass(frozen=True)
class SlotMap:
    """Where one collector's GPUs go: `slots[i]` is the asset slot of its i-th GPU (-1: dropped), and why
    some were dropped."""

    slots: npt.NDArray[np.int64]
    unknown: int
    duplicate: int
    unnamed: int

    @property
    def errors(self) -> dict[str, int]:
        return {"unknown": self.unknown, "duplicate": self.duplicate, "no_uuid": self.unnamed}


class Inventory:
    """The asset's GPUs in slot order."""

    def __init__(self, gpus: Sequence[GpuIdentity], *, synthetic: bool = False) -> None:
        self.gpus = tuple(gpus)
        self.synthetic = synthetic
        self._slot: dict[str, int] = {}
        for slot, gpu in enumerate(self.gpus):
            key = normalize_uuid(gpu.uuid)
            if not key:
                raise ConfigError(f"inventory: GPU {slot} has an empty UUID")
            if key in self._slot:
                raise ConfigError(f"inventory: GPU {gpu.uuid} is listed twice (slots {self._slot[key]} and {slot})")
            self._slot[key] = slot
        self._cache: dict[str, tuple[tuple[str, ...], SlotMap]] = {}

    @classmethod
    def synthetic_for(cls, gpus: int) -> Inventory:
        return cls([GpuIdentity(f"{SYNTHETIC_PREFIX}{i:05d}") for i in range(gpus)], synthetic=True)

    def __len__(self) -> int:
        return len(self.gpus)

    @property
    def uuids(self) -> list[str]:
        return [g.uuid for g in self.gpus]

    def check_count(self, registered: int) -> None:
        """The inventory must list exactly the GPUs the asset is registered with."""
        if len(self.gpus) != registered:
            raise ConfigError(f"inventory lists {len(self.gpus)} GPUs; the asset is registered with {registered}")

    def slot_map(self, uuids: Sequence[str], collector: str = "") -> SlotMap:
        """The slots of a collector's GPUs, named by `uuids` (empty string: the series had no UUID). A UUID seen
        twice in one reading is dropped both times: which of the two readings is the GPU's cannot be told."""
        key = tuple(uuids)
        cached = self._cache.get(collector)
        if cached is not None and cached[0] == key:
            return cached[1]  # a collector reads the same GPUs in the same order pass after pass
        slots = np.full(len(uuids), -1, dtype=np.int64)
        first: dict[int, int] = {}
        unknown = unnamed = duplicate = 0
        for i, uuid in enumerate(uuids):
            if not uuid:
                unnamed += 1
                continue
            slot = self._slot.get(normalize_uuid(uuid))
            if slot is None:
                unknown += 1
                continue
            if slot in first:
                duplicate += 1
                slots[first[slot]] = -1
                continue
            first[slot] = i
            slots[i] = slot
        result = SlotMap(slots, unknown, duplicate, unnamed)
        self._cache[collector] = (key, result)
        return result


def _identity(item: object, where: str) -> GpuIdentity:
    if isinstance(item, str):
        return GpuIdentity(item)
    if isinstance(item, dict) and isinstance(item.get("uuid"), str):
        extra = set(item) - {"uuid", "serial", "node"}
        if extra:
            raise ConfigError(f"{where}: unknown field {sorted(extra)[0]!r} (uuid, serial, node)")
        serial, node = item.get("serial"), item.get("node")
        return GpuIdentity(item["uuid"], None if serial is None else str(serial), None if node is None else str(node))
    raise ConfigError(f"{where}: each GPU is a UUID or a mapping with a `uuid`")


def parse_inventory(items: object, where: str) -> Inventory:
    """An inventory from a YAML list of UUIDs or of {uuid, serial, node} mappings, in slot order."""
    if isinstance(items, dict) and "gpus" in items:
        items = items["gpus"]
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{where}: a non-empty list of GPUs (UUIDs, or mappings with a `uuid`)")
    return Inventory([_identity(item, f"{where}[{i}]") for i, item in enumerate(items)])


def load_inventory_file(path: Path) -> Inventory:
    from wellhead.agent.config import read_yaml

    loaded = read_yaml(path, "inventory")
    return parse_inventory(loaded, f"inventory {path}")


def site_inventory(settings: AgentSettings, registered_gpus: int) -> Inventory:
    """The inventory the settings give (inline or from its file), checked against the asset's registered GPU
    count; without one, the asset's slots numbered synthetically."""
    if settings.inventory_file is not None:
        inventory = load_inventory_file(settings.inventory_file)
    elif settings.inventory is not None:
        items = [g if isinstance(g, str) else g.model_dump(exclude_none=True) for g in settings.inventory]
        inventory = parse_inventory(items, "inventory")
    else:
        return Inventory.synthetic_for(registered_gpus)
    inventory.check_count(registered_gpus)
    return inventory
