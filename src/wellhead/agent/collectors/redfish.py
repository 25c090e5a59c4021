"""Redfish BMC: chassis power and energy over HTTP(S) with credentials.

Power: `Chassis/<id>/Power` -> `PowerControl[0].PowerConsumedWatts`. Energy: `Chassis/<id>/EnvironmentMetrics`
-> `EnergykWh.Reading` (a cumulative counter, reported here in Wh). The readings of several chassis add
up; any chassis failing makes the reading missing (a partial sum would understate energy).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from wellhead.agent.collectors import CollectorError, Reading, register_collector
from wellhead.agent.samples import MeterTick

if TYPE_CHECKING:
    from wellhead.agent.config import RedfishConfig
    from wellhead.agent.inventory import Inventory
    from wellhead.agent.terms import SiteTerms


@dataclass
class RedfishCollector:
    base_url: str
    chassis: list[str] = field(default_factory=lambda: ["1"])
    username: str | None = None
    password: str | None = None
    verify: bool | str = True  # a CA bundle path, or False for a lab BMC's self-signed certificate
    timeout: float = 5.0
    name: str = "redfish"
    replayable: bool = False

    def _get(self, path: str) -> dict[str, Any]:
        url = f"{self.base_url.rstrip('/')}/redfish/v1/{path}"
        auth = (self.username, self.password or "") if self.username else None
        try:
            response = requests.get(url, auth=auth, verify=self.verify, timeout=self.timeout)
        except requests.RequestException as exc:
            raise CollectorError(f"Redfish {url} unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise CollectorError(f"Redfish {url} answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise CollectorError(f"Redfish {url} answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise CollectorError(f"Redfish {url} answered a JSON {type(body).__name__}, not an object")
        return body

    def collect(self, ts: int) -> Reading:
        watts = 0.0
        wh = 0
        for chassis in self.chassis:
            power = self._get(f"Chassis/{chassis}/Power")
            metrics = self._get(f"Chassis/{chassis}/EnvironmentMetrics")
            try:
                w = power["PowerControl"][0]["PowerConsumedWatts"]
                kwh = metrics["EnergykWh"]["Reading"]
            except (KeyError, IndexError, TypeError):
                raise CollectorError(f"Redfish chassis {chassis}: power or energy reading absent") from None
            if not isinstance(w, int | float) or not isinstance(kwh, int | float) or w < 0 or kwh < 0:
                raise CollectorError(f"Redfish chassis {chassis}: readings are not non-negative numbers")
            watts += float(w)
            wh += round(float(kwh) * 1000)
        return Reading(meter=MeterTick(power_w=watts, energy_wh=wh))

    def close(self) -> None:
        pass


@register_collector("redfish")
def from_config(c: RedfishConfig, terms: SiteTerms, inventory: Inventory) -> RedfishCollector:
    """The BMC's password comes from the environment variable the config names, never from the file."""
    return RedfishCollector(
        base_url=c.base_url,
        chassis=c.chassis,
        username=c.username,
        password=os.environ.get(c.password_env) if c.password_env else None,
        verify=c.verify,
        timeout=c.timeout,
    )
