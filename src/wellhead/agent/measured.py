"""Our measurement as the values an attestor signs, and how another's values are compared with it."""

from __future__ import annotations

from typing import Any, Protocol

from wellhead.agent.config import Tolerances
from wellhead.chain.observations import ZERO32, Observation

VALUE_FIELDS = (
    "uptimeBps",
    "curtailedBps",
    "gpuEnergyWh",
    "facilityEnergyWh",
    "miningEnergyWh",
    "miningRevenue",
    "renewableBps",
    "carbonGramsPerKwh",
    "evidenceHash",
)


class Measured(Protocol):
    """What a tolerance check compares: an observation, or the medians of a report."""

    uptime_bps: int
    renewable_bps: int
    carbon_grams_per_kwh: int
    gpu_energy_wh: int
    facility_energy_wh: int
    mining_energy_wh: int
    mining_revenue: int


def report_differences(ours: Measured, theirs: Measured, t: Tolerances) -> list[tuple[str, int, int]]:
    """The fields on which our measurement and another's values differ beyond the tolerances."""
    out: list[tuple[str, int, int]] = []
    if abs(ours.uptime_bps - theirs.uptime_bps) > t.uptime_bps:
        out.append(("uptimeBps", ours.uptime_bps, theirs.uptime_bps))
    # renewable share must be backed by the checker's own reading of the site's green source
    if theirs.renewable_bps > ours.renewable_bps + t.renewable_bps:
        out.append(("renewableBps", ours.renewable_bps, theirs.renewable_bps))
    if theirs.carbon_grams_per_kwh + t.carbon_g_per_kwh < ours.carbon_grams_per_kwh:
        out.append(("carbonGramsPerKwh", ours.carbon_grams_per_kwh, theirs.carbon_grams_per_kwh))
    for field, pct, a, b in (
        ("gpuEnergyWh", t.energy_pct, ours.gpu_energy_wh, theirs.gpu_energy_wh),
        ("facilityEnergyWh", t.facility_pct, ours.facility_energy_wh, theirs.facility_energy_wh),
        ("miningEnergyWh", t.energy_pct, ours.mining_energy_wh, theirs.mining_energy_wh),
        ("miningRevenue", t.mining_revenue_pct, ours.mining_revenue, theirs.mining_revenue),
    ):
        # each side rounds to whole Wh, so one Wh apart is always within tolerance (a 60 s epoch of 8 GPUs
        # is ~50 Wh, where one Wh of rounding alone is 2 %)
        if abs(a - b) > 1 and abs(a - b) * 100 > pct * max(a, b):
            out.append((field, a, b))
    return out


def measured_observation(values: dict[str, Any], observer: int) -> Observation:
    """Our measurement (the outbox's values) as the observation of attestor `observer`."""
    fields = {k: values[k] for k in VALUE_FIELDS if k in values}
    evidence = fields.get("evidenceHash")
    if isinstance(evidence, str):
        fields["evidenceHash"] = bytes.fromhex(evidence.removeprefix("0x"))
    return Observation.model_validate({"observer": observer, **fields})


def measured_event(values: dict[str, Any]) -> bytes:
    event = values.get("gridEventId") or ZERO32
    return bytes.fromhex(event.removeprefix("0x")) if isinstance(event, str) else bytes(event)
