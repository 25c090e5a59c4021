"""The site's Prometheus (or any PromQL store: VictoriaMetrics, Thanos, Mimir), which already scrapes a DCGM
exporter on every node: a handful of instant queries per sample, one per DCGM field, one series per GPU UUID.

Each query is `max by (UUID) (last_over_time(FIELD{selector}[max_age]))`: a series with no sample in the
last `max_age` (one sample interval by default) is absent, so stale data counts as missing, never as the
last value repeated; `max by` collapses replicas of the same GPU (two Prometheus servers behind Thanos) and
drops every other label, which keeps the answer small (about 80 bytes a GPU). A series without a UUID
label becomes one unnamed series and is counted. The queries run concurrently; a query that fails, times
out, answers something that is not a PromQL vector or is refused (an expired token: 401) makes the whole
sample missing: it is counted, and shows as unproven time.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from wellhead.agent.collectors import CollectorError, Reading, register_collector
from wellhead.agent.collectors.dcgm import FIELDS, DcgmHealth, GpuFields, usable
from wellhead.core.errors import ConfigError

MAX_ANSWER = 64 * 1024 * 1024  # about 80 bytes a GPU: room for 500,000 GPUs' series

if TYPE_CHECKING:
    from wellhead.agent.config import PrometheusConfig
    from wellhead.agent.inventory import Inventory
    from wellhead.agent.terms import SiteTerms


def _read_secret(path: Path, what: str) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise CollectorError(f"cannot read the Prometheus {what} file {path}: {exc.strerror}") from None


@dataclass
class PrometheusCollector:
    url: str  # the server's base URL (…/api/v1/query is appended)
    max_age: float = 10.0
    selector: str = ""  # extra label matchers, e.g. cluster="dc1",job="dcgm"
    uuid_label: str = "UUID"
    timeout: float = 5.0
    bearer_token_file: Path | None = None
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    name: str = "prometheus"
    replayable: bool = False
    health: DcgmHealth = field(default_factory=DcgmHealth)
    _session: requests.Session | None = None
    _pool: ThreadPoolExecutor | None = None

    def query(self, family: str) -> str:
        window = f"{max(1, round(self.max_age * 1000))}ms"
        return f"max by ({self.uuid_label}) (last_over_time({family}{{{self.selector}}}[{window}]))"

    def _start(self) -> tuple[requests.Session, ThreadPoolExecutor]:
        if self._session is None or self._pool is None:
            self._session = requests.Session()
            self._pool = ThreadPoolExecutor(max_workers=len(FIELDS), thread_name_prefix="wellhead-promql")
        return self._session, self._pool

    def _auth(self) -> dict[str, Any]:
        """Read on every pass: a rotated token or password is picked up without a restart."""
        if self.bearer_token_file is not None:
            auth: dict[str, Any] = {
                "headers": {"Authorization": f"Bearer {_read_secret(self.bearer_token_file, 'token')}"}
            }
        elif self.username is not None and self.password_file is not None:
            auth = {"auth": (self.username, _read_secret(self.password_file, "password"))}
        else:
            auth = {}
        # per request: a session's `verify` loses to REQUESTS_CA_BUNDLE in the environment
        auth["verify"] = str(self.ca_file) if self.ca_file is not None else True
        return auth

    def _vector(
        self, session: requests.Session, family: str, auth: dict[str, Any], deadline: float
    ) -> list[dict[str, Any]]:
        """One query's vector, read whole before `deadline` (monotonic) and within MAX_ANSWER bytes: a server
        that answers a byte at a time costs the pass nothing beyond its deadline."""
        endpoint = self.url.rstrip("/") + "/api/v1/query"
        try:
            remaining = max(0.05, deadline - time.monotonic())
            with session.get(
                endpoint,
                params={"query": self.query(family)},
                timeout=(min(3.0, remaining), remaining),
                allow_redirects=False,
                stream=True,
                **auth,
            ) as response:
                if response.status_code != 200:
                    raise CollectorError(f"Prometheus query for {family} answered HTTP {response.status_code}")
                body = bytearray()
                while chunk := response.raw.read1(1 << 16, decode_content=True):  # what has arrived: byte by byte
                    body += chunk
                    if len(body) > MAX_ANSWER:
                        raise CollectorError(f"Prometheus answer for {family} is larger than {MAX_ANSWER} bytes")
                    if time.monotonic() > deadline:
                        raise CollectorError(f"Prometheus answer for {family} missed the {self.timeout:g} s deadline")
        except requests.RequestException as exc:
            raise CollectorError(f"Prometheus query for {family} failed: {type(exc).__name__}") from None
        try:
            parsed = json.loads(body)
            data = parsed["data"]
            if parsed.get("status") != "success" or data.get("resultType") != "vector":
                raise ValueError("not a successful vector answer")
            result: list[dict[str, Any]] = data["result"]
            if not isinstance(result, list):
                raise ValueError("result is not a list")
            return result
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CollectorError(f"Prometheus answer for {family} is malformed: {exc}") from None

    def collect(self, ts: int) -> Reading:
        session, pool = self._start()
        auth = self._auth()
        deadline = time.monotonic() + self.timeout
        futures = {family: pool.submit(self._vector, session, family, auth, deadline) for family in FIELDS}
        _done, late = wait(futures.values(), timeout=self.timeout + 0.1)
        if late:
            raise CollectorError(f"Prometheus queries missed the {self.timeout:g} s deadline")
        answers = [(family, future.result()) for family, future in futures.items()]
        gpus: GpuFields = {}
        for family, result in answers:
            for series in result:
                try:
                    uuid = str(series["metric"].get(self.uuid_label, ""))
                    value = float(series["value"][1])
                except (KeyError, TypeError, ValueError, IndexError, AttributeError):
                    raise CollectorError(f"Prometheus answer for {family} has a malformed series") from None
                if usable(family.removeprefix("DCGM_FI_DEV_"), value):
                    gpus.setdefault(uuid or "#", {})[family] = value
        tick = self.health.tick(gpus)
        return Reading(gpus=tick)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        if self._session is not None:
            self._session.close()
            self._session = None


@register_collector("prometheus", gpus=True)
def from_config(c: PrometheusConfig, terms: SiteTerms, inventory: Inventory) -> PrometheusCollector:
    if c.max_age is None:
        raise ConfigError("prometheus: max_age is unset (the agent's settings fill it with the sample interval)")
    return PrometheusCollector(
        url=c.url,
        max_age=c.max_age,
        selector=c.selector,
        uuid_label=c.uuid_label,
        timeout=c.deadline,
        bearer_token_file=c.bearer_token_file,
        username=c.basic_auth.username if c.basic_auth else None,
        password_file=c.basic_auth.password_file if c.basic_auth else None,
        ca_file=c.ca_file,
    )
