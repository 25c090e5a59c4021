"""Collectors against real peers on loopback; bad answers become missing samples, never zeros or crashes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tests.support.peers import RedfishBmc, SunSpecMeter, TextServer, dcgm_text
from wellhead.agent.collectors import GPU_COLLECTORS, CollectorError, collector_factory
from wellhead.agent.collectors.dcgm import POWER, XID, DcgmCollector, parse_dcgm
from wellhead.agent.collectors.nvml import NvmlCollector
from wellhead.agent.collectors.redfish import RedfishCollector
from wellhead.agent.collectors.sunspec import SunSpecMeterCollector
from wellhead.agent.config import DcgmConfig, SunSpecConfig
from wellhead.agent.counters import CounterTracker
from wellhead.agent.inventory import Inventory
from wellhead.agent.samples import HEALTHY, MISSING, UNHEALTHY, GpuTick
from wellhead.agent.terms import SiteTerms
from wellhead.core.errors import ConfigError


# ---------------------------------------------------------------- DCGM exporter
def by_uuid(tick: GpuTick) -> dict[str, tuple[float, int, int]]:
    return {u: (float(tick.power_w[i]), int(tick.energy_mj[i]), int(tick.health[i])) for i, u in enumerate(tick.uuids)}


def test_dcgm_scrape_health_energy_and_sentinels() -> None:
    server = TextServer(dcgm_text([1_000, 2_000, 9223372036854775794, 4_000], xid=[0, 79, 0, 0]))
    collector = DcgmCollector(targets=[server.url])
    try:
        tick = collector.collect(0).gpus
        assert tick is not None and tick.uuids == ["GPU-0000", "GPU-0001", "GPU-0002", "GPU-0003"]
        assert list(tick.energy_mj) == [1_000, 2_000, -1, 4_000]  # "not supported" is missing, not a number
        assert list(tick.health) == [HEALTHY, UNHEALTHY, HEALTHY, HEALTHY]  # XID 79
        # newer exporters spell the label `hostname`; filtering by host works with either
        server.body = dcgm_text([1, 2], hostname_label="hostname")
        tick = DcgmCollector(targets=[server.url], hostname="node1").collect(0).gpus
        assert tick is not None and by_uuid(tick) == {"GPU-0000": (650.5, 1, HEALTHY), "GPU-0001": (650.5, 2, HEALTHY)}
        assert DcgmCollector(targets=[server.url], hostname="other").collect(0).gpus.gpus == 0  # type: ignore[union-attr]
    finally:
        collector.close()
        server.close()


def test_dcgm_parses_only_its_fields_strictly() -> None:
    page = (
        'DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-a"} 5.5\n'
        'DCGM_FI_DEV_POWER_USAGE_INSTANT{gpu="0",UUID="GPU-a"} not-a-number-but-not-ours\n'
        'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION_total{gpu="0",UUID="GPU-a"} 9223372036854775794\n'
        'DCGM_FI_DEV_XID_ERRORS{gpu="1",Hostname="n"} 3 1700000000000\n'
        'DCGM_FI_DEV_SM_CLOCK{gpu="0" this family is never parsed\n'
    )
    assert parse_dcgm(page) == {"GPU-a": {POWER: 5.5}, "#1": {XID: 3.0}}
    assert parse_dcgm(page.replace('UUID="GPU-a"', 'uuid="GPU-a"'), uuid_label="uuid")["GPU-a"] == {POWER: 5.5}
    for bad in ('DCGM_FI_DEV_POWER_USAGE{gpu="0" 1\n', 'DCGM_FI_DEV_POWER_USAGE{gpu="0"} one\n'):
        with pytest.raises(ValueError):
            parse_dcgm(bad)


def test_dcgm_malformed_or_down_is_a_collector_error() -> None:
    server = TextServer("DCGM_FI_DEV_POWER_USAGE{gpu=0 1\n")
    try:
        with pytest.raises(CollectorError, match="malformed"):
            DcgmCollector(targets=[server.url]).collect(0)
        server.status = 503
        with pytest.raises(CollectorError, match="HTTP 503"):
            DcgmCollector(targets=[server.url]).collect(0)
    finally:
        server.close()
    with pytest.raises(CollectorError, match="all 1 targets"):
        DcgmCollector(targets=[server.url], deadline=0.5).collect(0)


# ---------------------------------------------------------------- Redfish BMC (sushy-static, HTTPS)
def test_redfish_reads_power_and_energy_as_they_move(tmp_path: Path) -> None:
    bmc = RedfishBmc(tmp_path)
    try:
        collector = RedfishCollector(base_url=bmc.url, username="admin", password="secret", verify=str(bmc.cert))
        first = collector.collect(0).meter
        assert first is not None and first.power_w == 4_200.0 and first.energy_wh == 1_000_000
        bmc.set(power_w=3_900.5, energy_kwh=1_001.25)
        second = collector.collect(10).meter
        assert second is not None and second.power_w == 3_900.5 and second.energy_wh == 1_001_250
        # the BMC's certificate is checked: an agent that does not trust it does not read it
        with pytest.raises(CollectorError, match="unreachable"):
            RedfishCollector(base_url=bmc.url, verify=True).collect(0)
        bmc.write("Chassis/1/Power", "{this is not json")
        with pytest.raises(CollectorError, match="not JSON"):
            collector.collect(20)
        bmc.write("Chassis/1/Power", {"PowerControl": []})
        with pytest.raises(CollectorError, match="absent"):
            collector.collect(30)
    finally:
        bmc.close()


def test_redfish_http_500_is_a_collector_error() -> None:
    server = TextServer('{"error": "internal"}', status=500, content_type="application/json")
    try:
        with pytest.raises(CollectorError, match="HTTP 500"):
            RedfishCollector(base_url=server.url).collect(0)
    finally:
        server.close()


# ---------------------------------------------------------------- SunSpec meter (pymodbus)
def test_sunspec_meter_scanned_and_read() -> None:
    meter = SunSpecMeter()
    collector = SunSpecMeterCollector(host="127.0.0.1", port=meter.port)
    try:
        reading = collector.collect(0).meter
        assert reading is not None and reading.power_w == 5_000 and reading.energy_wh == 1_000_000
        meter.set(power_w=4_321, energy_wh=1_000_250)
        reading = collector.collect(10).meter
        assert reading is not None and reading.power_w == 4_321 and reading.energy_wh == 1_000_250
        meter.set(power_w=123, energy_wh=2_000_000, w_sf=1)  # scale factor 10^1
        reading = collector.collect(20).meter
        assert reading is not None and reading.power_w == 1_230
    finally:
        collector.close()
        meter.close()


def test_sunspec_modbus_exception_and_outage_are_collector_errors() -> None:
    meter = SunSpecMeter()
    try:
        # a device without a meter model at the expected place answers the scan with an exception
        with pytest.raises(CollectorError):
            SunSpecMeterCollector(host="127.0.0.1", port=meter.port, unit_id=1)._read(45_000, 4)
    finally:
        meter.close()
    with pytest.raises(CollectorError, match="unreachable"):
        SunSpecMeterCollector(host="127.0.0.1", port=meter.port, timeout=0.5).collect(0)


# ---------------------------------------------------------------- NVML, faked at the pynvml boundary
class FakeNvml:
    """The subset of pynvml the collector calls, with GPUs whose state the test sets."""

    class NVMLError(Exception):
        pass

    nvmlEventTypeXidCriticalError = 8
    NVML_TEMPERATURE_GPU = 0
    NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
    NVML_VOLATILE_ECC = 0

    def __init__(self, gpus: int) -> None:
        self.energy = [10_000 * (i + 1) for i in range(gpus)]
        self.ecc = [0] * gpus
        self.temp = [60] * gpus
        self.lost: set[int] = set()
        self.no_energy: set[int] = set()
        self.events: list[Any] = []
        self.gpus = gpus

    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlDeviceGetCount(self) -> int:
        return self.gpus

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetUUID(self, h: int) -> str:
        return f"GPU-{h}"

    def nvmlDeviceGetSerial(self, h: int) -> str:
        return f"S{h}"

    def nvmlEventSetCreate(self) -> str:
        return "events"

    def nvmlDeviceRegisterEvents(self, h: int, kind: int, events: str) -> None: ...

    def nvmlEventSetWait_v2(self, events: str, timeout: int) -> Any:
        if not self.events:
            raise self.NVMLError("timeout")
        return self.events.pop(0)

    def _check(self, h: int) -> None:
        if h in self.lost:
            raise self.NVMLError("GPU is lost")

    def nvmlDeviceGetPowerUsage(self, h: int) -> int:
        self._check(h)
        return 650_000

    def nvmlDeviceGetTemperature(self, h: int, kind: int) -> int:
        self._check(h)
        return self.temp[h]

    def nvmlDeviceGetTotalEnergyConsumption(self, h: int) -> int:
        if h in self.no_energy:
            raise self.NVMLError("Not Supported")
        return self.energy[h]

    def nvmlDeviceGetUtilizationRates(self, h: int) -> Any:
        return SimpleNamespace(gpu=97, memory=40)

    limits: dict[int, int]  # power limits, mW (set by tests that cap power)

    def nvmlDeviceGetPowerManagementLimitConstraints(self, h: int) -> tuple[int, int]:
        return 200_000, 700_000

    def nvmlDeviceGetPowerManagementDefaultLimit(self, h: int) -> int:
        return 700_000

    def nvmlDeviceSetPowerManagementLimit(self, h: int, limit: int) -> None:
        self.limits[h] = limit

    def nvmlDeviceGetTotalEccErrors(self, h: int, kind: int, counter: int) -> int:
        return self.ecc[h]


def test_nvml_health_from_xid_ecc_temperature_and_lost_gpus() -> None:
    nv = FakeNvml(5)
    collector = NvmlCollector(nvml=nv)  # type: ignore[arg-type]
    tick = collector.collect(0).gpus
    assert tick is not None and list(tick.health) == [HEALTHY] * 5
    assert tick.uuids == [f"GPU-{i}" for i in range(5)]  # named by UUID: the inventory slots them
    assert collector.identities[2] == {"uuid": "GPU-2", "serial": "S2"}
    nv.events.append(SimpleNamespace(eventType=8, device=1, eventData=79))  # XID 79: fallen off the bus
    nv.ecc[2] = 3
    nv.temp[3] = 95
    nv.lost.add(4)
    nv.no_energy.add(0)
    tick = collector.collect(10).gpus
    assert tick is not None
    assert list(tick.health) == [HEALTHY, UNHEALTHY, UNHEALTHY, UNHEALTHY, MISSING]
    assert tick.energy_mj[0] == -1  # not supported: missing, never zero
    assert np.isnan(tick.power_w[4])
    nv.lost = set(range(5))
    with pytest.raises(CollectorError, match="none of the GPUs"):
        collector.collect(20)


def test_nvml_without_a_driver_is_a_collector_error() -> None:
    import pynvml

    with pytest.raises(CollectorError, match="NVML unavailable"):
        NvmlCollector(nvml=pynvml).collect(0)


# ---------------------------------------------------------------- counter hygiene
def test_counters_reset_wraparound_glitch_and_gaps() -> None:
    c = CounterTracker(5, bits=32, reset_floor=1_000)
    c.update(np.array([100, 2**32 - 50, 5_000, 7_000, 9_000]))
    delta, glitch = c.update(np.array([300, 20, 10, -1, 8_500]))
    assert list(delta) == [200, 70, 10, 0, 0]  # normal, wrapped, reset (small value), gap, glitch
    assert list(glitch) == [False, False, False, False, True]
    delta, _ = c.update(np.array([400, 40, 30, 7_600, 9_100]))
    # the gap integrates (7,000 -> 7,600); the glitched reading was ignored (9,000 -> 9,100)
    assert list(delta) == [100, 20, 20, 600, 100]


def test_the_registry_builds_each_configured_collector_with_its_role() -> None:
    terms = SiteTerms(0, 3600, 8, 700, 0, (), 1800, 600, 0, 6)
    mining = SunSpecConfig(type="sunspec", host="127.0.0.1", role="mining")
    inventory = Inventory.synthetic_for(8)
    (meter,) = [collector_factory(mining.type)(mining, terms, inventory)]
    assert isinstance(meter, SunSpecMeterCollector) and meter.role == "mining" and meter.name == "sunspec-mining"
    config = DcgmConfig(type="dcgm", url="127.0.0.1:1", targets=["http://10.0.0.2:9400/metrics"])
    dcgm = collector_factory("dcgm")(config, terms, inventory)
    assert isinstance(dcgm, DcgmCollector)
    assert list(dcgm.targets) == ["http://127.0.0.1:1/metrics", "http://10.0.0.2:9400/metrics"]
    assert {"dcgm", "nvml"} <= GPU_COLLECTORS and "sunspec" not in GPU_COLLECTORS
    with pytest.raises(ConfigError, match="no collector of type 'lidar'"):
        collector_factory("lidar")
