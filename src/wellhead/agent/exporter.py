"""`wellhead agent exporter`: one host's GPUs read by NVML, served as a DCGM exporter serves them.

For sites without dcgm-exporter: run this on every GPU host, and point the site agent's `dcgm` collector (or
the site's Prometheus) at all of them. The page carries DCGM's names and labels (`gpu`, `UUID`, `Hostname`),
so everything downstream treats it as DCGM: readings are slotted by UUID, and a GPU NVML cannot read is left
out (missing, never zero).

The page is state, never "since the last read", so any number of scrapers (the agent, the site's Prometheus,
an operator's curl) each see the same thing: the ECC count is the raw counter (each reader judges growth
itself), and a critical XID stays on the page for `xid_hold` seconds after NVML raised it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector as PromCollector

from wellhead.agent.collectors import CollectorError
from wellhead.agent.collectors.dcgm import ECC_DBE, ENERGY, POWER, UTIL, XID
from wellhead.agent.collectors.nvml import GpuState, NvmlCollector

LABELS = ["gpu", "UUID", "Hostname"]
TEMP = "DCGM_FI_DEV_GPU_TEMP"
HELP = {
    POWER: "Power draw (in W).",
    ENERGY: "Total energy consumption since boot (in mJ).",
    UTIL: "GPU utilization (in %).",
    TEMP: "GPU temperature (in C).",
    XID: "Value of the last critical XID error, held for the exporter's xid_hold seconds.",
    ECC_DBE: "Total number of double-bit (uncorrected) volatile ECC errors.",
}


@dataclass(eq=False)  # registered by identity
class NvmlPage(PromCollector):
    """Reads NVML on every scrape (one read at a time)."""

    nvml: NvmlCollector
    hostname: str
    xid_hold: float = 60.0
    _xid: dict[str, tuple[int, float]] = field(default_factory=dict)  # UUID -> (last XID, when)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = {name: GaugeMetricFamily(name, text, labels=LABELS) for name, text in HELP.items()}
        with self._lock:
            try:
                states = self.nvml.read_states()
            except CollectorError:
                states = []  # NVML down: an empty page, every GPU missing to the agent
            now = time.monotonic()
            for i, state in enumerate(states):
                if state is not None:
                    self._add(families, [str(i), self.nvml.identities[i]["uuid"], self.hostname], state, now)
        yield from families.values()

    def _add(self, families: dict[str, GaugeMetricFamily], labels: list[str], state: GpuState, now: float) -> None:
        uuid = labels[1]
        if state.xid:
            self._xid[uuid] = (state.xid, now)
        code, seen = self._xid.get(uuid, (0, -1e18))
        families[POWER].add_metric(labels, state.power_w)
        if state.energy_mj >= 0:
            families[ENERGY].add_metric(labels, float(state.energy_mj))
        if state.util_pct >= 0:
            families[UTIL].add_metric(labels, float(state.util_pct))
        families[TEMP].add_metric(labels, float(state.temperature_c))
        families[XID].add_metric(labels, float(code) if now - seen <= self.xid_hold else 0.0)
        if state.ecc_dbe is not None:
            families[ECC_DBE].add_metric(labels, float(state.ecc_dbe))


def serve(
    nvml: NvmlCollector, host: str, port: int, hostname: str | None = None, xid_hold: float = 60.0
) -> tuple[object, int]:
    """Starts serving (a background thread); returns the server and the port it listens on."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NvmlPage(nvml, hostname or socket.gethostname(), xid_hold))
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server, int(server.server_address[1])
