"""The simulated site's surroundings for the devnet and the tests: what a real site gets from others.

- `shed` is the site's curtailment command (`python -m wellhead.devkit.sitesim shed --schedule F --gpus N`): run by
  the agent's VEN for each accepted grid event, it adds the event's window to the schedule the simulated
  site reads, so the miners stop, N GPUs drop to idle and the facility meter shows it;
- `write_grid_feed` writes a grid-intensity feed file (hourly carbon intensity and renewable share, shaped
  like a Texas day: cleaner at night with wind, dirtier in the evening peak);
- `export_pool_earnings` writes the mining pool's earnings export for an interval, from the simulated
  miners' feeder meter at a fixed hashprice per kWh.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from decimal import Decimal
from pathlib import Path

from wellhead.devkit.collectors.simulated import SimulatedSite

HOUR = 3600
# what a modern ASIC fleet earned per kWh drawn in 2026 (hashprice over efficiency), in USD
HASHPRICE_USD_PER_KWH = Decimal("0.0485")


def add_shed_window(schedule: Path, starts_at: int, ends_at: int, gpus: int) -> None:
    rows = json.loads(schedule.read_text() or "[]") if schedule.exists() else []
    rows.append({"startsAt": starts_at, "endsAt": ends_at, "gpus": gpus})
    tmp = schedule.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows))
    tmp.replace(schedule)


def write_grid_feed(path: Path, start: int, hours: int) -> None:
    """Hourly rows from the hour before `start` for `hours` hours."""
    first = start - start % HOUR - HOUR
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "carbon_g_per_kwh", "renewable_pct"])
        for h in range(hours + 1):
            ts = first + h * HOUR
            phase = 2 * math.pi * ((ts % 86_400) / 86_400)
            carbon = 390 + 70 * math.sin(phase - math.pi / 2)  # lowest near 00:00 UTC, highest near 12:00
            renewable = 38 - 14 * math.sin(phase - math.pi / 2)
            w.writerow([ts, f"{carbon:.1f}", f"{renewable:.1f}"])


def export_pool_earnings(path: Path, site: SimulatedSite, start: int, end: int, step: int = 600) -> None:
    """Appends the pool's earnings for [start, end), one row per `step` seconds (stamped at its start)."""
    new = not path.exists()
    with path.open("a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["timestamp", "amount"])
        for t in range(start, end, step):
            a, b = site.collect(t).mining, site.collect(min(t + step, end)).mining
            if a is None or b is None or a.energy_wh is None or b.energy_wh is None:
                continue
            kwh = Decimal((b.energy_wh - a.energy_wh) % 2**32) / 1000
            w.writerow([t, f"{(kwh * HASHPRICE_USD_PER_KWH).quantize(Decimal('0.000001'))}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wellhead.devkit.sitesim")
    sub = parser.add_subparsers(dest="command", required=True)
    shed = sub.add_parser("shed", help="curtailment command: add the event in WELLHEAD_EVENT_* to the schedule")
    shed.add_argument("--schedule", type=Path, required=True)
    shed.add_argument("--gpus", type=int, required=True)
    args = parser.parse_args(argv)
    try:
        starts_at = int(os.environ["WELLHEAD_EVENT_STARTS_AT"])
        ends_at = int(os.environ["WELLHEAD_EVENT_ENDS_AT"])
    except (KeyError, ValueError):
        print("error: WELLHEAD_EVENT_STARTS_AT and WELLHEAD_EVENT_ENDS_AT must be unix seconds", file=sys.stderr)
        return 2
    add_shed_window(args.schedule, starts_at, ends_at, args.gpus)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
