"""NVML through nvidia-ml-py: per-GPU power, total energy counter, utilization, temperature, XID and ECC
health, UUID and serial.

Health: a GPU is unhealthy in a tick when it raised a critical XID event since the last tick, when its
volatile uncorrected ECC count grew, or when it is above its slowdown temperature; a GPU NVML cannot read
(lost, not responding) is missing. A field the board does not support is missing, never zero.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from wellhead.agent.collectors import CollectorError, Reading, register_collector
from wellhead.agent.samples import HEALTHY, MISSING, UNHEALTHY, GpuTick

if TYPE_CHECKING:
    from wellhead.agent.config import NvmlConfig
    from wellhead.agent.inventory import Inventory
    from wellhead.agent.terms import SiteTerms


def _load_pynvml() -> ModuleType:
    import pynvml

    module: ModuleType = pynvml
    return module


@dataclass(frozen=True)
class GpuState:
    """One GPU as NVML reads it now, before any judgement of health."""

    power_w: float
    energy_mj: int  # -1: not supported
    util_pct: int  # -1: not supported
    temperature_c: int
    ecc_dbe: int | None  # volatile uncorrected ECC errors; None: not supported
    xid: int  # the last critical XID since the previous read; 0: none


@dataclass
class NvmlCollector:
    """Every GPU of this host, named by UUID (the inventory puts each in its slot)."""

    slowdown_celsius: int = 87
    nvml: ModuleType | None = None  # injected in tests: the pynvml module boundary
    name: str = "nvml"
    replayable: bool = False
    identities: list[dict[str, str]] = field(default_factory=list)
    _handles: list[Any] = field(default_factory=list, repr=False)
    _events: Any = None
    _last_ecc: dict[int, int] = field(default_factory=dict)

    def _start(self) -> ModuleType:
        nv = self.nvml or _load_pynvml()
        self.nvml = nv
        try:
            nv.nvmlInit()
            count = nv.nvmlDeviceGetCount()
        except nv.NVMLError as exc:
            raise CollectorError(f"NVML unavailable: {exc}") from None
        if count == 0:
            raise CollectorError("NVML sees no GPU on this host")
        self._handles = [nv.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        self.identities = []
        for h in self._handles:
            self.identities.append(
                {
                    "uuid": self._safe(nv.nvmlDeviceGetUUID, h, ""),
                    "serial": self._safe(nv.nvmlDeviceGetSerial, h, ""),
                }
            )
        try:
            self._events = nv.nvmlEventSetCreate()
            for h in self._handles:
                nv.nvmlDeviceRegisterEvents(h, nv.nvmlEventTypeXidCriticalError, self._events)
        except nv.NVMLError:
            self._events = None  # XID events not supported: ECC and temperature still count
        return nv

    def _safe(self, fn: Any, handle: Any, default: Any) -> Any:
        assert self.nvml is not None
        try:
            return fn(handle)
        except self.nvml.NVMLError:
            return default

    def _xid_events(self, nv: ModuleType) -> dict[int, int]:
        """GPU index -> the last critical XID code raised since the previous read (the queue is drained)."""
        if self._events is None:
            return {}
        hit: dict[int, int] = {}
        while True:
            try:
                event = nv.nvmlEventSetWait_v2(self._events, 0)
            except nv.NVMLError:
                return hit  # timeout: no more events
            if event.eventType & nv.nvmlEventTypeXidCriticalError:
                for i, h in enumerate(self._handles):
                    if event.device == h:
                        hit[i] = int(getattr(event, "eventData", 0) or 0) or 1

    def read_states(self) -> list[GpuState | None]:
        """Every GPU's raw state now (None: it did not answer). XID events are drained by this read."""
        nv = self.nvml if self._handles else self._start()
        assert nv is not None
        xid = self._xid_events(nv)
        states: list[GpuState | None] = []
        for i, h in enumerate(self._handles):
            try:
                power_mw = nv.nvmlDeviceGetPowerUsage(h)
                temperature = nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU)
            except nv.NVMLError:
                states.append(None)  # this GPU did not answer: missing
                continue
            util = self._safe(nv.nvmlDeviceGetUtilizationRates, h, None)
            try:
                ecc: int | None = int(
                    nv.nvmlDeviceGetTotalEccErrors(h, nv.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, nv.NVML_VOLATILE_ECC)
                )
            except nv.NVMLError:
                ecc = None
            states.append(
                GpuState(
                    power_w=power_mw / 1000,
                    energy_mj=self._safe(nv.nvmlDeviceGetTotalEnergyConsumption, h, -1),
                    util_pct=util.gpu if util is not None else -1,
                    temperature_c=int(temperature),
                    ecc_dbe=ecc,
                    xid=xid.get(i, 0),
                )
            )
        return states

    def collect(self, ts: int) -> Reading:
        states = self.read_states()
        tick = GpuTick.missing(len(self._handles), [ident["uuid"] for ident in self.identities])
        for i, state in enumerate(states):
            if state is None:
                continue
            tick.power_w[i] = state.power_w
            tick.energy_mj[i] = state.energy_mj
            tick.util_pct[i] = state.util_pct
            ecc = state.ecc_dbe if state.ecc_dbe is not None else self._last_ecc.get(i, 0)
            ecc_grew = ecc > self._last_ecc.get(i, ecc)
            self._last_ecc[i] = ecc
            bad = state.xid != 0 or ecc_grew or state.temperature_c >= self.slowdown_celsius
            tick.health[i] = UNHEALTHY if bad else HEALTHY
        if np.all(tick.health == MISSING):
            raise CollectorError("NVML answered for none of the GPUs")
        return Reading(gpus=tick)

    def close(self) -> None:
        if self.nvml is not None and self._handles:
            with contextlib.suppress(self.nvml.NVMLError):
                self.nvml.nvmlShutdown()
            self._handles = []


@dataclass
class NvmlPowerCap:
    """Curtails by power-capping every GPU through NVML while a grid event is on, and restores each GPU's
    default limit after it (clamped to the limits the GPU accepts). Needs root, as NVML does for limits."""

    watts: int
    nvml: ModuleType | None = None  # injected in tests: the pynvml module boundary
    capped: bool = False

    def apply(self, active: bool) -> None:
        """Caps (active) or restores; a no-op when already in that state. Raises CollectorError on failure."""
        if active == self.capped:
            return
        nv = self.nvml or _load_pynvml()
        try:
            nv.nvmlInit()
            for i in range(nv.nvmlDeviceGetCount()):
                handle = nv.nvmlDeviceGetHandleByIndex(i)
                low, high = nv.nvmlDeviceGetPowerManagementLimitConstraints(handle)
                wanted = self.watts * 1000 if active else nv.nvmlDeviceGetPowerManagementDefaultLimit(handle)
                nv.nvmlDeviceSetPowerManagementLimit(handle, min(max(wanted, low), high))
        except nv.NVMLError as exc:
            raise CollectorError(f"NVML power cap of {self.watts} W not applied: {exc}") from None
        self.capped = active


@register_collector("nvml", gpus=True)
def from_config(c: NvmlConfig, terms: SiteTerms, inventory: Inventory) -> NvmlCollector:
    return NvmlCollector(slowdown_celsius=c.slowdown_celsius)
