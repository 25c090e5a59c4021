"""NVIDIA DCGM exporter: scrape its Prometheus text over HTTP.

Fields: DCGM_FI_DEV_POWER_USAGE (W), DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (mJ counter),
DCGM_FI_DEV_GPU_UTIL (%), DCGM_FI_DEV_XID_ERRORS (last XID, non-zero: unhealthy),
DCGM_FI_DEV_ECC_DBE_VOL_TOTAL (double-bit ECC errors; an increase: unhealthy).
DCGM writes "blank" sentinels for values it does not have (int64 >= 0x7ffffffffffffff0, int32 >=
0x7ffffff0, fp64 >= 2^47); the Prometheus parser returns floats, and every int64 sentinel rounds to 2^63,
so a value >= 2^63 is a sentinel: it becomes a missing value, never a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import requests
from prometheus_client.parser import text_string_to_metric_families

from wellhead.agent.collectors import CollectorError, Reading, register_collector
from wellhead.agent.samples import HEALTHY, MISSING, UNHEALTHY, GpuTick

if TYPE_CHECKING:
    from wellhead.agent.config import DcgmConfig
    from wellhead.agent.terms import SiteTerms

INT64_BLANK = float(2**63)
INT32_BLANK = float(0x7FFFFFF0)
FP64_BLANK = float(2**47)

POWER = "DCGM_FI_DEV_POWER_USAGE"
ENERGY = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
UTIL = "DCGM_FI_DEV_GPU_UTIL"
XID = "DCGM_FI_DEV_XID_ERRORS"
ECC_DBE = "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL"


def _strip_total(name: str) -> str:
    return name[: -len("_total")] if name.endswith("_total") else name


def parse_dcgm(text: str, hostname: str | None = None) -> dict[str, dict[int, float]]:
    """{field: {gpu index: value}} from exporter text; sentinels dropped. Raises ValueError if malformed."""
    out: dict[str, dict[int, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = _strip_total(sample.name)
            labels = sample.labels
            host = labels.get("Hostname", labels.get("hostname"))
            if hostname is not None and host is not None and host != hostname:
                continue
            if "gpu" not in labels:
                continue
            value = float(sample.value)
            if value != value or value >= INT64_BLANK or (name == POWER and value >= FP64_BLANK):
                continue
            if name in (UTIL, XID) and value >= INT32_BLANK:
                continue
            out.setdefault(name, {})[int(labels["gpu"])] = value
    return out


@dataclass
class DcgmCollector:
    url: str
    gpus: int
    hostname: str | None = None
    timeout: float = 3.0
    name: str = "dcgm"
    replayable: bool = False
    _last_dbe: dict[int, float] = field(default_factory=dict)

    def collect(self, ts: int) -> Reading:
        try:
            response = requests.get(self.url, timeout=self.timeout)
            response.raise_for_status()
            fields = parse_dcgm(response.text, self.hostname)
        except requests.RequestException as exc:
            raise CollectorError(f"DCGM scrape of {self.url} failed: {type(exc).__name__}") from None
        except (ValueError, TypeError) as exc:
            raise CollectorError(f"DCGM scrape of {self.url} is malformed: {exc}") from None
        tick = GpuTick.missing(self.gpus)
        power, energy = fields.get(POWER, {}), fields.get(ENERGY, {})
        util, xid, dbe = fields.get(UTIL, {}), fields.get(XID, {}), fields.get(ECC_DBE, {})
        for g in range(self.gpus):
            if g not in power and g not in energy:
                continue  # the GPU is absent from the scrape: missing, unproven
            tick.power_w[g] = power.get(g, np.nan)
            tick.energy_mj[g] = int(energy[g]) if g in energy else -1
            tick.util_pct[g] = int(util[g]) if g in util else -1
            new_dbe = g in dbe and dbe[g] > self._last_dbe.get(g, dbe[g])
            if g in dbe:
                self._last_dbe[g] = dbe[g]
            if g not in xid and g not in power:
                tick.health[g] = MISSING
            else:
                tick.health[g] = UNHEALTHY if (xid.get(g, 0) != 0 or new_dbe) else HEALTHY
        return Reading(gpus=tick)

    def close(self) -> None:
        pass


@register_collector("dcgm", gpus=True)
def from_config(c: DcgmConfig, terms: SiteTerms) -> DcgmCollector:
    return DcgmCollector(url=c.url, gpus=terms.gpus, hostname=c.hostname, timeout=c.timeout)
