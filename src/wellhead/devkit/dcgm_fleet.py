"""Fake DCGM exporters for tests and benchmarks: many nodes in one process, each on its own loopback port,
serving the page dcgm-exporter serves with its default counters (25 fields x 8 GPUs, about 40 KB a node).

Each node's GPUs have stable UUIDs (`GPU-<node>-<gpu>` as a UUID-shaped string), energy counters that move
with the wall clock at each GPU's power, and can be made to hang (accept and never answer), answer slowly,
serve a malformed page or drop the UUID label, so the collector's deadline and bad-input handling can be
tried on a real socket.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from aiohttp import web

DEFAULT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."),
    ("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz)."),
    ("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C)."),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
    ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "Total energy consumption since boot (in mJ)."),
    ("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "Total number of PCIe retries."),
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
    ("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)."),
    ("DCGM_FI_DEV_ENC_UTIL", "gauge", "Encoder utilization (in %)."),
    ("DCGM_FI_DEV_DEC_UTIL", "gauge", "Decoder utilization (in %)."),
    ("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
    ("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "counter", "Total number of NVLink bandwidth counters."),
    ("DCGM_FI_DEV_VGPU_LICENSE_STATUS", "gauge", "vGPU License status"),
    ("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for uncorrectable errors"),
    ("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for correctable errors"),
    ("DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "Whether remapping of rows has failed"),
    ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "gauge", "Ratio of time the graphics engine is active."),
    ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge", "Ratio of cycles the tensor (HMMA) pipe is active."),
    ("DCGM_FI_PROF_DRAM_ACTIVE", "gauge", "Ratio of cycles the device memory interface is active."),
    ("DCGM_FI_PROF_PCIE_TX_BYTES", "gauge", "The rate of data transmitted over the PCIe bus."),
    ("DCGM_FI_PROF_PCIE_RX_BYTES", "gauge", "The rate of data received over the PCIe bus."),
    ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "Total number of double-bit volatile ECC errors."),
)


def gpu_uuid(node: int, gpu: int) -> str:
    """A stable, UUID-shaped name for a fake GPU."""
    return f"GPU-{node:08x}-{gpu:04x}-4000-8000-{node * 8 + gpu:012x}"


@dataclass
class FakeNode:
    index: int
    gpus: int = 8
    power_w: float = 650.5
    xid: dict[int, int] = field(default_factory=dict)  # gpu -> last XID
    energy_mj: dict[int, int] = field(default_factory=dict)  # gpu -> counter override (else it follows time)
    mode: str = "ok"  # ok | hang | slow | malformed | no_uuid | down
    uuids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.uuids:
            self.uuids = [gpu_uuid(self.index, g) for g in range(self.gpus)]

    @property
    def hostname(self) -> str:
        return f"node{self.index:04d}"

    def gpu_power_w(self, g: int) -> float:
        """Each GPU draws a little more than the one before it: a reading in the wrong slot shows."""
        return self.power_w + g

    def page(self, now: float) -> str:
        """The exporter's whole page at `now`."""
        lines: list[str] = []
        for name, kind, help_text in DEFAULT_FIELDS:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            for g in range(self.gpus):
                uuid = "" if self.mode == "no_uuid" else f'UUID="{self.uuids[g]}",'
                labels = (
                    f'gpu="{g}",{uuid}pci_bus_id="00000000:{g + 0x18:02X}:00.0",device="nvidia{g}",'
                    f'modelName="NVIDIA H100 80GB HBM3",Hostname="{self.hostname}",DCGM_FI_DRIVER_VERSION="550.90.07"'
                )
                lines.append(f"{name}{{{labels}}} {self._value(name, g, now)}")
        text = "\n".join(lines) + "\n"
        return (
            text.replace("DCGM_FI_DEV_POWER_USAGE{", "DCGM_FI_DEV_POWER_USAGE{gpu=", 1)
            if self.mode == "malformed"
            else text
        )

    def _value(self, name: str, g: int, now: float) -> str:
        if name == "DCGM_FI_DEV_POWER_USAGE":
            return f"{self.gpu_power_w(g):.3f}"
        if name == "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION":
            return str(self.energy_mj.get(g, int((now - 1_600_000_000) * self.gpu_power_w(g) * 1000)))
        if name == "DCGM_FI_DEV_XID_ERRORS":
            return str(self.xid.get(g, 0))
        if name == "DCGM_FI_DEV_GPU_UTIL":
            return "87"
        return "0"


class ExporterFleet:
    """`nodes` fake exporters on loopback ports, served by one event loop in a background thread."""

    def __init__(self, nodes: int, gpus_per_node: int = 8, cache_seconds: float = 1.0) -> None:
        # each node at its own power too (node i: 300 + 10 i W, plus its GPU's index)
        self.nodes = [FakeNode(i, gpus_per_node, power_w=300.0 + 10 * i) for i in range(nodes)]
        self.cache_seconds = cache_seconds  # pages are rebuilt at most this often (real exporters poll DCGM too)
        self._pages: dict[int, tuple[float, bytes]] = {}
        self.ports: list[int] = []
        self.loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=120)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}/metrics" for p in self.ports]

    @property
    def uuids(self) -> list[str]:
        return [u for n in self.nodes for u in n.uuids]

    def set_page_dirty(self) -> None:
        """Forget rendered pages (after a test changes a node)."""
        self._pages.clear()

    async def _start(self) -> None:
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_get("/metrics", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        self._by_port: dict[int, FakeNode] = {}
        for node in self.nodes:
            site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=512)
            await site.start()
            server = site._server
            assert isinstance(server, asyncio.base_events.Server)
            port = int(server.sockets[0].getsockname()[1])
            self._by_port[port] = node
            self.ports.append(port)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        sock = request.transport.get_extra_info("sockname") if request.transport else None
        node = self._by_port[int(sock[1])] if sock else self.nodes[0]
        if node.mode == "hang":  # until the fleet closes
            await self._closing.wait()
        if node.mode == "down":
            raise web.HTTPServiceUnavailable()
        now = time.time()
        cached = self._pages.get(node.index)
        if cached is None or now - cached[0] > self.cache_seconds:
            cached = (now, node.page(now).encode())
            self._pages[node.index] = cached
        if node.mode == "slow":  # one byte at a time: alive, but never done within a pass
            response = web.StreamResponse(headers={"Content-Type": "text/plain; version=0.0.4"})
            await response.prepare(request)
            for b in cached[1]:
                if self._closing.is_set():
                    break
                await response.write(bytes([b]))
                await asyncio.sleep(0.05)
            return response
        return web.Response(body=cached[1], content_type="text/plain", charset="utf-8")

    def close(self) -> None:
        async def stop() -> None:
            self._closing.set()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
