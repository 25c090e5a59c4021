"""`wellhead agent exporter`: one host's GPUs read by NVML, served as a DCGM exporter serves them.

For sites without dcgm-exporter: run this on every GPU host, and point the site agent's `dcgm` collector (or
the site's Prometheus) at all of them. The page carries the five fields the agent reads under DCGM's names
and labels (`gpu`, `UUID`, `Hostname`), so everything downstream treats it as DCGM: readings are slotted by
UUID, and a host that cannot read a GPU leaves it out (missing, never zero).
"""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector as PromCollector

from wellhead.agent.collectors import CollectorError
from wellhead.agent.collectors.dcgm import ENERGY, POWER, UTIL, XID
from wellhead.agent.collectors.nvml import NvmlCollector
from wellhead.agent.samples import MISSING, UNHEALTHY

LABELS = ["gpu", "UUID", "Hostname"]


@dataclass(eq=False)  # registered by identity
class NvmlPage(PromCollector):
    """Reads NVML on every scrape."""

    nvml: NvmlCollector
    hostname: str

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = {
            POWER: GaugeMetricFamily(POWER, "Power draw (in W).", labels=LABELS),
            ENERGY: GaugeMetricFamily(ENERGY, "Total energy consumption since boot (in mJ).", labels=LABELS),
            UTIL: GaugeMetricFamily(UTIL, "GPU utilization (in %).", labels=LABELS),
            XID: GaugeMetricFamily(
                XID, "Non-zero: a critical XID, ECC growth or overheating since the last read.", labels=LABELS
            ),
        }
        try:
            tick = self.nvml.collect(0).gpus
        except CollectorError:
            tick = None  # NVML down: an empty page, every GPU missing to the agent
        if tick is not None:
            for i, uuid in enumerate(tick.uuids):
                if tick.health[i] == MISSING:
                    continue
                labels = [str(i), uuid, self.hostname]
                if not math.isnan(tick.power_w[i]):
                    families[POWER].add_metric(labels, float(tick.power_w[i]))
                if tick.energy_mj[i] >= 0:
                    families[ENERGY].add_metric(labels, float(tick.energy_mj[i]))
                if tick.util_pct[i] >= 0:
                    families[UTIL].add_metric(labels, float(tick.util_pct[i]))
                families[XID].add_metric(labels, 1.0 if tick.health[i] == UNHEALTHY else 0.0)
        yield from families.values()


def serve(nvml: NvmlCollector, host: str, port: int, hostname: str | None = None) -> tuple[object, int]:
    """Starts serving (a background thread); returns the server and the port it listens on."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NvmlPage(nvml, hostname or socket.gethostname()))
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server, int(server.server_address[1])
