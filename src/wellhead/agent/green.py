"""Where a report's renewable share, carbon intensity and mining revenue come from, with the evidence.

A site's electricity is either contracted renewable energy or drawn from the grid:

- contracted: its share of a generator's export under a power purchase agreement (the generator's own
  meter, `role: generator`) and renewable certificates retired on chain for the epoch
  (`GridLedger.retireCertificates`; their ids go into the evidence), together at most the facility's energy;
- the rest comes from the grid at the grid's carbon intensity and renewable share, read from a
  grid-intensity feed file (or fixed in the config when there is none).

renewable share = (contracted + grid x grid renewable share) / facility energy, rounded down;
carbon intensity = grid intensity x grid energy / facility energy, rounded up. Both round against the site's
claim. A checker computes the same from its own reading of the same sources and refuses a report that claims
more renewable energy or less carbon than it found.

Hybrid sites also report what their Bitcoin miners earned: the pool's earnings export (a CSV file), summed
over the epoch in stablecoin base units, rounded down.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from pathlib import Path

from wellhead.core.constants import BPS
from wellhead.core.errors import ConfigError

FEED_COLUMNS = ("timestamp", "carbon_g_per_kwh", "renewable_pct")
MAX_FEED_AGE = 6 * 3600  # a feed row older than this before the epoch is stale: the configured values apply
EARNINGS_COLUMNS = ("timestamp", "amount")


def _timestamp(value: str) -> int:
    value = value.strip()
    if value.lstrip("-").isdigit():
        return int(value)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone")
    return int(moment.timestamp())


def _rows(path: Path, columns: tuple[str, ...]) -> tuple[str, list[dict[str, str]]]:
    """The file's sha-256 and its rows; a missing file or column is a one-line ConfigError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    reader = csv.DictReader(data.decode("utf-8-sig").splitlines())
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)} (expected {', '.join(columns)})")
    return hashlib.sha256(data).hexdigest(), list(reader)


@dataclass(frozen=True)
class FeedRow:
    ts: int
    carbon_g_per_kwh: Decimal
    renewable_bps: int


@dataclass
class GridFeed:
    """A grid-intensity feed file (e.g. an Electricity Maps or WattTime export): CSV with `timestamp`
    (unix seconds or ISO 8601 with a zone), `carbon_g_per_kwh` and `renewable_pct`, one row per interval.
    Re-read when the file changes."""

    path: Path
    _mtime: float = field(default=-1.0, repr=False)
    _rows: list[FeedRow] = field(default_factory=list, repr=False)
    sha256: str = ""

    def rows(self) -> list[FeedRow]:
        try:
            mtime = self.path.stat().st_mtime
        except OSError as exc:
            raise ConfigError(f"cannot read grid feed {self.path}: {exc.strerror}") from None
        if mtime != self._mtime:
            self.sha256, raw = _rows(self.path, FEED_COLUMNS)
            rows = []
            for n, r in enumerate(raw, start=2):
                try:
                    carbon = Decimal(r["carbon_g_per_kwh"])
                    renewable = Decimal(r["renewable_pct"])
                    row = FeedRow(_timestamp(r["timestamp"]), carbon, int(renewable * 100))
                except (ValueError, InvalidOperation) as exc:
                    raise ConfigError(f"grid feed {self.path} line {n}: {exc}") from None
                if not (0 <= carbon <= 2_000 and 0 <= renewable <= 100):
                    raise ConfigError(f"grid feed {self.path} line {n}: value out of range")
                rows.append(row)
            self._rows = sorted(rows, key=lambda x: x.ts)
            self._mtime = mtime
        return self._rows

    def window(self, start: int, end: int) -> list[FeedRow]:
        """The rows in force during [start, end): the last one at or before `start` (unless stale) and every
        one inside. Empty when the feed has nothing recent: then the configured values apply."""
        rows = self.rows()
        before = [r for r in rows if start - MAX_FEED_AGE <= r.ts <= start]
        inside = [r for r in rows if start < r.ts < end]
        return ([before[-1]] if before else []) + inside


@dataclass(frozen=True)
class Certificate:
    certificate_id: bytes
    energy_wh: int


@dataclass(frozen=True)
class GreenInputs:
    facility_wh: int
    generator_wh: int = 0  # the generator's export in the epoch (its meter)
    ppa_share_bps: int = BPS  # share of that export contracted to this site
    certificates: tuple[Certificate, ...] = ()
    feed: tuple[FeedRow, ...] = ()
    static_renewable_bps: int = 0  # only without any source above
    static_carbon_g_per_kwh: int = 0  # the grid's intensity without a feed


@dataclass(frozen=True)
class GreenValues:
    renewable_bps: int
    carbon_g_per_kwh: int
    evidence: dict[str, object]


def green_values(g: GreenInputs) -> GreenValues:
    """The epoch's renewable share and carbon intensity, and what backs them (see the module's docstring)."""
    sourced = g.generator_wh > 0 or bool(g.certificates) or bool(g.feed)
    if not sourced:
        return GreenValues(
            g.static_renewable_bps, g.static_carbon_g_per_kwh, {"method": "static (no source configured)"}
        )
    facility = g.facility_wh
    ppa_wh = g.generator_wh * g.ppa_share_bps // BPS
    certificate_wh = sum(c.energy_wh for c in g.certificates)
    contracted = min(facility, ppa_wh + certificate_wh)
    grid_wh = facility - contracted
    if g.feed:
        grid_carbon = sum((r.carbon_g_per_kwh for r in g.feed), Decimal(0)) / len(g.feed)
        grid_renewable_bps = sum(r.renewable_bps for r in g.feed) // len(g.feed)
    else:  # no feed, or nothing recent in it: the configured intensity, and no grid renewable share
        grid_carbon, grid_renewable_bps = Decimal(g.static_carbon_g_per_kwh), 0
    # Decimal's // truncates toward zero, so rounding up is asked for by name
    if facility == 0:
        renewable_bps, carbon = 0, int(grid_carbon.to_integral_value(rounding=ROUND_CEILING))
    else:
        renewable_bps = (contracted * BPS + grid_wh * grid_renewable_bps) // facility
        carbon = int((grid_carbon * grid_wh / facility).to_integral_value(rounding=ROUND_CEILING))
    evidence: dict[str, object] = {
        "method": "contracted (PPA share + retired certificates) + grid remainder at the feed's values",
        "facility_wh": facility,
        "generator_wh": g.generator_wh,
        "ppa_share_bps": g.ppa_share_bps,
        "ppa_wh": ppa_wh,
        "certificates": [{"id": "0x" + c.certificate_id.hex(), "energy_wh": c.energy_wh} for c in g.certificates],
        "certificate_wh": certificate_wh,
        "contracted_wh": contracted,
        "grid_wh": grid_wh,
        "grid_carbon_g_per_kwh": str(grid_carbon),
        "grid_renewable_bps": grid_renewable_bps,
        "feed_rows": [[r.ts, str(r.carbon_g_per_kwh), r.renewable_bps] for r in g.feed],
    }
    return GreenValues(min(BPS, renewable_bps), min(2_000, carbon), evidence)


@dataclass
class PoolEarnings:
    """A mining pool's earnings export: CSV with `timestamp` and `amount` (in the stablecoin's unit, e.g. USD
    for USDC), one row per payout interval. Re-read when the file changes."""

    path: Path
    _mtime: float = field(default=-1.0, repr=False)
    _rows: list[tuple[int, Decimal]] = field(default_factory=list, repr=False)

    def rows(self) -> list[tuple[int, Decimal]]:
        try:
            mtime = self.path.stat().st_mtime
        except OSError as exc:
            raise ConfigError(f"cannot read pool earnings {self.path}: {exc.strerror}") from None
        if mtime != self._mtime:
            _, raw = _rows(self.path, EARNINGS_COLUMNS)
            rows = []
            for n, r in enumerate(raw, start=2):
                try:
                    rows.append((_timestamp(r["timestamp"]), Decimal(r["amount"])))
                except (ValueError, InvalidOperation) as exc:
                    raise ConfigError(f"pool earnings {self.path} line {n}: {exc}") from None
                if rows[-1][1] < 0:
                    raise ConfigError(f"pool earnings {self.path} line {n}: negative amount")
            self._rows, self._mtime = rows, mtime
        return self._rows

    def earned(self, start: int, end: int, decimals: int) -> tuple[int, list[list[object]]]:
        """Base units earned in [start, end) (rounded down) and the rows behind it."""
        inside = [(ts, amount) for ts, amount in self.rows() if start <= ts < end]
        total = sum((amount for _, amount in inside), Decimal(0))
        return int(total.scaleb(decimals)), [[ts, str(amount)] for ts, amount in inside]


def open_sources(grid_feed: Path | None, earnings_file: Path | None) -> tuple[GridFeed | None, PoolEarnings | None]:
    """The configured feed and earnings files, read once now so that a bad one stops the agent at start."""
    feed = GridFeed(grid_feed) if grid_feed is not None else None
    earnings = PoolEarnings(earnings_file) if earnings_file is not None else None
    if feed is not None:
        feed.rows()
    if earnings is not None:
        earnings.rows()
    return feed, earnings
