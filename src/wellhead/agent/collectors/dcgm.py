"""NVIDIA DCGM exporters, scraped directly: one collector for every node of the site, read concurrently.

Fields: DCGM_FI_DEV_POWER_USAGE (W), DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (mJ counter),
DCGM_FI_DEV_GPU_UTIL (%), DCGM_FI_DEV_XID_ERRORS (last XID, non-zero: unhealthy),
DCGM_FI_DEV_ECC_DBE_VOL_TOTAL (double-bit ECC errors; an increase: unhealthy). Each GPU is named by its
`UUID` label and slotted by the inventory; the per-node `gpu` index is never used for slotting.

Only those five families are parsed, line by line, out of the exporter's 25 or so (a page is about 40 KB
a node): a pass over 1,250 nodes parses 50 MB of text. A line of one of them that does not parse makes the
node's page malformed (its GPUs missing); other families are not looked at.

DCGM writes "blank" sentinels for values it does not have (int64 >= 0x7ffffffffffffff0, int32 >=
0x7ffffff0, fp64 >= 2^47); a float parse rounds every int64 sentinel to 2^63, so a value >= 2^63 is a
sentinel: it becomes a missing value, never a number.
"""

from __future__ import annotations

import functools
import math
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yarl

from wellhead.agent.collectors import CollectorError, Reading, register_collector
from wellhead.agent.collectors.scrape import ConcurrentFetcher, ParseError
from wellhead.agent.inventory import normalize_uuid
from wellhead.agent.samples import HEALTHY, MISSING, UNHEALTHY, GpuTick
from wellhead.core.errors import ConfigError

if TYPE_CHECKING:
    from wellhead.agent.config import DcgmConfig
    from wellhead.agent.inventory import Inventory
    from wellhead.agent.terms import SiteTerms

INT64_BLANK = float(2**63)
INT32_BLANK = float(0x7FFFFFF0)
FP64_BLANK = float(2**47)

POWER = "DCGM_FI_DEV_POWER_USAGE"
ENERGY = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
UTIL = "DCGM_FI_DEV_GPU_UTIL"
XID = "DCGM_FI_DEV_XID_ERRORS"
ECC_DBE = "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL"
FIELDS = (POWER, ENERGY, UTIL, XID, ECC_DBE)

_NAMES = "|".join(f.removeprefix("DCGM_FI_DEV_") for f in FIELDS)
# every line that starts with one of the five names (not a longer name sharing the prefix): what must parse
_ANY_LINE = re.compile(r"\nDCGM_FI_DEV_(?:" + _NAMES + r")(?:_total)?(?=[{ \t])")
# one well-formed sample line of them, by the exposition format's grammar: labels, value, optional timestamp.
# Possessive quantifiers and an unrolled label value keep it linear; with its literal prefix the regex runs
# at C speed: a 40 KB page costs about 0.15 ms (the full text parser: 10 ms).
_LABEL_PAIR = r'[a-zA-Z_]\w*="[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"'


@functools.cache
def _sample_line(uuid_label: str) -> re.Pattern[str]:
    """Groups: the field, the UUID (a lookahead into the labels, empty without one), the labels, the value."""
    # label pair by label pair (a value may hold braces or commas), lazily up to the UUID label
    uuid = r"(?:(?=(?:" + _LABEL_PAIR + r",)*?" + re.escape(uuid_label) + r'="([^"\\\n]*)"))?'
    return re.compile(
        r"\nDCGM_FI_DEV_(" + _NAMES + r")(?:_total)?"
        r"(?:\{" + uuid + r"((?:" + _LABEL_PAIR + r"(?:," + _LABEL_PAIR + r")*+)?+),?\})?"
        r"[ \t]+([^ \t\n]+)(?:[ \t]+-?\d+)?[ \t]*(?=\n)"
    )


GpuFields = dict[str, dict[str, float]]  # GPU key (its UUID, or "#<gpu>" without one) -> field -> value


def _label(block: str, name: str) -> str | None:
    """A label's value in a well-formed label block (str.find: this runs for every line)."""
    key = name + '="'
    k = block.find(key)
    if k > 0 and block[k - 1] != ",":
        k = block.find("," + key)
        k = k + 1 if k >= 0 else -1
    if k < 0:
        return None
    start = k + len(key)
    return block[start : block.find('"', start)]


def usable(name: str, value: float) -> bool:
    """A value DCGM actually measured: finite, not negative, not one of its "blank" sentinels."""
    if not math.isfinite(value) or value < 0 or value >= INT64_BLANK or (name == "POWER_USAGE" and value >= FP64_BLANK):
        return False
    return not (name in ("GPU_UTIL", "XID_ERRORS") and value >= INT32_BLANK)


def parse_dcgm(text: str, hostname: str | None = None, uuid_label: str = "UUID") -> GpuFields:
    """{GPU: {field: value}} from an exporter's page; sentinels dropped. Raises ParseError if a line of a
    needed family is malformed. A series without the UUID label is keyed `#<gpu index>` (it cannot be
    slotted, and is counted as such). A GPU with two series of one field on the page (a MIG exporter repeats
    the parent's UUID) comes back twice, so that the inventory drops it as read twice: which series is the
    GPU's cannot be told."""
    text = "\n" + text + "\n"
    matches = _sample_line(uuid_label).findall(text)
    malformed = len(_ANY_LINE.findall(text)) - len(matches)
    if malformed:
        raise ParseError(f"{malformed} malformed sample lines of the DCGM fields")
    out: GpuFields = {}
    for name, uuid, block, raw in matches:
        if hostname is not None:
            host = _label(block, "Hostname") or _label(block, "hostname")
            if host is not None and host != hostname:
                continue
        try:
            value = float(raw)
        except ValueError:
            raise ParseError(f"bad value {raw[:40]!r} for DCGM_FI_DEV_{name}") from None
        if usable(name, value):
            key = uuid or f"#{_label(block, 'gpu')}"
            fields = out.setdefault(key, {})
            if "DCGM_FI_DEV_" + name in fields:
                out.setdefault(key + "\0again", {})["DCGM_FI_DEV_" + name] = value
            else:
                fields["DCGM_FI_DEV_" + name] = value
    return out


@dataclass
class DcgmHealth:
    """Health from XID and from double-bit ECC growth between passes (remembered per GPU UUID)."""

    last_dbe: dict[str, float] = field(default_factory=dict)

    def tick(self, gpus: GpuFields) -> GpuTick:
        keys = list(gpus)
        tick = GpuTick.missing(len(keys), ["" if k.startswith("#") else k.split("\0", 1)[0] for k in keys])
        for i, key in enumerate(keys):
            f = gpus[key]
            power, energy = f.get(POWER), f.get(ENERGY)
            if power is None and energy is None:
                continue  # nothing that proves the GPU ran: missing, unproven
            tick.power_w[i] = np.nan if power is None else power
            tick.energy_mj[i] = -1 if energy is None else int(energy)
            util = f.get(UTIL)
            tick.util_pct[i] = -1 if util is None else int(util)
            dbe = f.get(ECC_DBE)
            name = normalize_uuid(key)  # as the inventory compares them: a case change hides no growth
            grew = dbe is not None and dbe > self.last_dbe.get(name, dbe)
            if dbe is not None:
                self.last_dbe[name] = dbe
            if XID not in f and power is None:
                tick.health[i] = MISSING
            else:
                tick.health[i] = UNHEALTHY if (f.get(XID, 0) != 0 or grew) else HEALTHY
        return tick


@dataclass
class DcgmCollector:
    """Scrapes every target concurrently within one deadline; a target that fails or misses the deadline
    leaves its GPUs missing (the inventory shows which), and only all of them failing is a collector error."""

    targets: Sequence[str]
    deadline: float = 5.0
    hostname: str | None = None
    uuid_label: str = "UUID"
    max_in_flight: int = 256
    ca_file: Path | None = None
    name: str = "dcgm"
    replayable: bool = False
    health: DcgmHealth = field(default_factory=DcgmHealth)
    _fetcher: ConcurrentFetcher | None = None

    def collect(self, ts: int) -> Reading:
        if self._fetcher is None:
            context = ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file is not None else None
            self._fetcher = ConcurrentFetcher(max_in_flight=self.max_in_flight, ssl_context=context)

        def parse(url: str, body: bytes) -> GpuFields:
            return parse_dcgm(body.decode("utf-8"), self.hostname, self.uuid_label)

        results = self._fetcher.fetch_all(self.targets, parse, self.deadline)
        merged: GpuFields = {}
        failures = [r for r in results if r.value is None]
        for r in results:
            for key, fields in (r.value or {}).items():
                if key.startswith("#"):
                    key = f"#{r.url}{key}"  # unnamed series stay apart per node, each counted once
                if key in merged:
                    key = f"{key}\0{r.url}"  # the same UUID on two nodes: kept twice, so it is seen as a duplicate
                merged[key] = fields
        if len(failures) == len(results):
            first = failures[0] if failures else None
            raise CollectorError(
                f"DCGM scrape failed for all {len(results)} targets"
                + (f" ({first.url}: {first.error})" if first else "")
            )
        tick = self.health.tick(merged)
        tick.uuids = [u.split("\0", 1)[0] for u in tick.uuids]
        return Reading(gpus=tick, failed_targets=[f"{r.url}: {r.error}" for r in failures])

    def close(self) -> None:
        if self._fetcher is not None:
            self._fetcher.close()
            self._fetcher = None


def target_url(target: str) -> str:
    """`host:port` as dcgm-exporter's default path, or a full http(s) URL as given."""
    if target.startswith(("http://", "https://")):
        return target
    return f"http://{target}/metrics"


def load_targets_file(path: Path) -> list[str]:
    """A YAML/JSON list of targets, or Prometheus file_sd groups (`[{targets: [host:port], labels: ...}]`)."""
    from wellhead.agent.config import read_yaml

    loaded = read_yaml(path, "DCGM targets")
    if not isinstance(loaded, list):
        raise ConfigError(f"DCGM targets {path}: a list of targets or of file_sd groups")
    out: list[str] = []
    for item in loaded:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("targets"), list):
            out += [str(t) for t in item["targets"]]
        else:
            raise ConfigError(f"DCGM targets {path}: {item!r} is neither a target nor a file_sd group")
    return out


@register_collector("dcgm", gpus=True)
def from_config(c: DcgmConfig, terms: SiteTerms, inventory: Inventory) -> DcgmCollector:
    targets = ([c.url] if c.url else []) + list(c.targets)
    if c.targets_file is not None:
        targets += load_targets_file(c.targets_file)
    urls = [target_url(t) for t in targets]
    if len(set(urls)) != len(urls):
        raise ConfigError("dcgm: a target is listed twice")
    for url in urls:
        try:
            parsed = yarl.URL(url)
            if parsed.host is None or parsed.port is None:
                raise ValueError("no host or port")
        except ValueError as exc:
            raise ConfigError(f"dcgm: target {url!r} is not a URL: {exc}") from None
    return DcgmCollector(
        targets=urls,
        deadline=c.deadline,
        hostname=c.hostname,
        uuid_label=c.uuid_label,
        max_in_flight=c.max_in_flight,
        ca_file=c.ca_file,
    )
