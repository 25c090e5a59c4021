"""Facility meter over Modbus TCP, SunSpec meter models (201-204): real power and total imported energy.

The register layout is not hard-coded: the device is scanned from the SunSpec base ("SunS" at 40000) model
by model, and point offsets come from pysunspec2's machine-readable model definitions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from wellhead.agent.collectors import CollectorError, MeterRole, Reading, meter_reading, register_collector
from wellhead.agent.samples import MeterTick

if TYPE_CHECKING:
    from wellhead.agent.config import SunSpecConfig
    from wellhead.agent.inventory import Inventory
    from wellhead.agent.terms import SiteTerms

SUNSPEC_BASES = (40000, 0, 50000)
SUNS = (0x5375, 0x6E53)
METER_MODELS = (201, 202, 203, 204)
END_MODEL = 0xFFFF
INT16_NA = 0x8000


@cache
def point_offsets(model_id: int) -> dict[str, tuple[int, int]]:
    """{point name: (offset from the model's ID register, size in registers)} from the SunSpec definition."""
    text = resources.files("sunspec2").joinpath("models", "json", f"model_{model_id}.json").read_text()
    offsets: dict[str, tuple[int, int]] = {}
    offset = 0
    for point in json.loads(text)["group"]["points"]:
        offsets[point["name"]] = (offset, int(point["size"]))
        offset += int(point["size"])
    return offsets


def _signed16(value: int) -> int:
    return value - 0x10000 if value >= 0x8000 else value


@dataclass
class SunSpecMeterCollector:
    host: str
    port: int = 502
    unit_id: int = 1
    timeout: float = 3.0
    role: MeterRole = "facility"  # a generator's meter is read for the energy it exported
    name: str = "sunspec"
    replayable: bool = False
    _client: ModbusTcpClient | None = field(default=None, repr=False)
    _model: tuple[int, int] | None = field(default=None, repr=False)  # (model id, address of its ID register)

    def __post_init__(self) -> None:
        if self.role != "facility" and self.name == "sunspec":
            self.name = f"sunspec-{self.role}"

    def _read(self, address: int, count: int) -> list[int]:
        client = self._client
        if client is None or not client.connected:
            client = ModbusTcpClient(self.host, port=self.port, timeout=self.timeout, retries=0)
            if not client.connect():  # type: ignore[no-untyped-call]
                raise CollectorError(f"Modbus meter {self.host}:{self.port} unreachable")
            self._client = client
        try:
            response = client.read_holding_registers(address, count=count, device_id=self.unit_id)
        except ModbusException as exc:
            self.close()
            raise CollectorError(f"Modbus read of {count} registers at {address} failed: {exc}") from None
        if response.isError():
            raise CollectorError(f"Modbus meter answered an exception at {address}: {response}")
        registers: list[int] = list(response.registers)
        return registers

    def _scan(self) -> tuple[int, int]:
        for base in SUNSPEC_BASES:
            try:
                marker = self._read(base, 2)
            except CollectorError as exc:
                if "unreachable" in str(exc):
                    raise
                continue
            if tuple(marker) != SUNS:
                continue
            address = base + 2
            for _ in range(64):
                model_id, length = self._read(address, 2)
                if model_id == END_MODEL:
                    break
                if model_id in METER_MODELS:
                    return model_id, address
                address += 2 + length
        raise CollectorError(f"no SunSpec meter model at {self.host}:{self.port}")

    def collect(self, ts: int) -> Reading:
        if self._model is None:
            self._model = self._scan()
        model_id, address = self._model
        points = point_offsets(model_id)
        w_off, _ = points["W"]
        wsf_off, _ = points["W_SF"]
        imp_off, _ = points["TotWhExp" if self.role == "generator" else "TotWhImp"]
        esf_off, _ = points["TotWh_SF"]
        span = max(w_off, wsf_off, imp_off + 1, esf_off) + 1
        regs = self._read(address, span)
        w_raw, w_sf = regs[w_off], regs[wsf_off]
        e_raw = (regs[imp_off] << 16) | regs[imp_off + 1]
        e_sf = regs[esf_off]
        power = None if INT16_NA in (w_raw, w_sf) else _signed16(w_raw) * 10.0 ** _signed16(w_sf)
        if e_sf == INT16_NA or e_raw == 0:  # acc32 0 means "not implemented"
            energy = None
        else:
            scale = _signed16(e_sf)
            energy = e_raw * 10**scale if scale >= 0 else e_raw // 10 ** (-scale)
        return meter_reading(self.role, MeterTick(power_w=power, energy_wh=energy))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()  # type: ignore[no-untyped-call]
            self._client = None


@register_collector("sunspec")
def from_config(c: SunSpecConfig, terms: SiteTerms, inventory: Inventory) -> SunSpecMeterCollector:
    return SunSpecMeterCollector(host=c.host, port=c.port, unit_id=c.unit_id, timeout=c.timeout, role=c.role)
