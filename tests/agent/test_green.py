"""Green values from their sources, the pool's earnings, curtailment seen on the facility meter, the NVML
power cap, and the checker's refusal of green or mining claims its own reading does not back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.agent.test_collectors import FakeNvml
from wellhead.agent.aggregate import EpochWindow, aggregate, curtailment_compliance
from wellhead.agent.collectors.nvml import NvmlPowerCap
from wellhead.agent.config import Tolerances
from wellhead.agent.green import Certificate, GreenInputs, GridFeed, PoolEarnings, green_values
from wellhead.agent.measured import report_differences
from wellhead.agent.samples import Tick
from wellhead.chain.observations import Observation
from wellhead.core.errors import ConfigError
from wellhead.devkit.collectors.simulated import SimulatedSite

T0 = 1_800_000_000 - 1_800_000_000 % 3600


def test_green_values_from_ppa_certificates_and_feed(tmp_path: Path) -> None:
    feed_file = tmp_path / "feed.csv"
    feed_file.write_text(
        "timestamp,carbon_g_per_kwh,renewable_pct\n"
        f"{T0 - 3600},500,10\n"
        "2027-02-01T00:00:00+00:00,300,30\n"  # after the window: not used
        f"{T0 + 1800},400.5,20\n"
    )
    feed = GridFeed(feed_file).window(T0, T0 + 3600)
    assert [r.ts for r in feed] == [T0 - 3600, T0 + 1800]
    g = green_values(
        GreenInputs(
            facility_wh=100_000,
            generator_wh=50_000,
            ppa_share_bps=8_000,  # 40,000 Wh contracted from the farm
            certificates=(Certificate(b"\1" * 32, 10_000),),  # + 10,000 Wh
            feed=tuple(feed),
        )
    )
    # contracted 50,000; the grid's 50,000 at 15 % renewable and 450.25 g/kWh
    assert g.renewable_bps == (50_000 * 10_000 + 50_000 * 1_500) // 100_000 == 5_750
    assert g.carbon_g_per_kwh == 226  # 450.25 x 0.5 = 225.125, rounded up against the claim
    assert g.evidence["certificates"] == [{"id": "0x" + "01" * 32, "energy_wh": 10_000}]
    # contracted energy never counts for more than the facility drew
    full = green_values(GreenInputs(facility_wh=1_000, generator_wh=9_000, feed=tuple(feed)))
    assert (full.renewable_bps, full.carbon_g_per_kwh) == (10_000, 0)
    # a feed that stopped updating is not used: its last row is 7 hours before the epoch
    assert GridFeed(feed_file).window(T0 + 7 * 3600, T0 + 8 * 3600) == []
    stale = green_values(GreenInputs(facility_wh=1_000, generator_wh=500, static_carbon_g_per_kwh=400))
    assert (stale.renewable_bps, stale.carbon_g_per_kwh) == (5_000, 200), "the configured intensity applies"
    # without any source the configured values stand, and the evidence says so
    static = green_values(GreenInputs(facility_wh=1_000, static_renewable_bps=6_200, static_carbon_g_per_kwh=180))
    assert (static.renewable_bps, static.carbon_g_per_kwh) == (6_200, 180)


def test_bad_feed_and_earnings_files_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "feed.csv"
    bad.write_text("timestamp,carbon\n1,2\n")
    with pytest.raises(ConfigError, match="missing column"):
        GridFeed(bad).rows()
    bad.write_text("timestamp,carbon_g_per_kwh,renewable_pct\n2026-01-01T00:00:00,300,20\n")
    with pytest.raises(ConfigError, match=r"line 2: .*no time zone"):
        GridFeed(bad).rows()
    bad.write_text("timestamp,carbon_g_per_kwh,renewable_pct\n1,300,120\n")
    with pytest.raises(ConfigError, match="out of range"):
        GridFeed(bad).rows()
    with pytest.raises(ConfigError, match="cannot read pool earnings"):
        PoolEarnings(tmp_path / "missing.csv").rows()
    earnings = tmp_path / "earnings.csv"
    earnings.write_text("timestamp,amount\n1,-0.5\n")
    with pytest.raises(ConfigError, match="negative"):
        PoolEarnings(earnings).rows()


def test_pool_earnings_in_base_units_rounded_down(tmp_path: Path) -> None:
    earnings = tmp_path / "earnings.csv"
    earnings.write_text(f"timestamp,amount\n{T0 - 1},9\n{T0},1.2345678\n{T0 + 600},2.0000004\n{T0 + 3600},7\n")
    total, rows = PoolEarnings(earnings).earned(T0, T0 + 3600, decimals=6)
    assert total == 3_234_568  # 3.2345682 -> 3.234568: never more than the pool paid
    assert rows == [[T0, "1.2345678"], [T0 + 600, "2.0000004"]]


def _epoch(site: SimulatedSite) -> tuple[Any, EpochWindow]:
    window = EpochWindow(1, 0, T0, T0 + 3600, 60, site.gpus, site.max_watts)
    ticks = []
    for ts in range(T0 - 60, T0 + 3600, 60):
        r = site.collect(ts)
        ticks.append(Tick(ts=ts, gpus=r.gpus, meter=r.meter, mining=r.mining, generator=r.generator))
    return aggregate(window, ticks), window


def test_curtailment_drops_the_meter_and_compliance_measures_it(tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.json"
    site = SimulatedSite(gpus=16, mining_kw=100, fault_rate=0, dark_rate=0, curtail_schedule=schedule)
    before, window = _epoch(site)
    idle = curtailment_compliance(before, window, T0 + 2700, T0 + 3600)
    assert idle["measured"] and abs(int(idle["shed_bps"])) < 500, "no event: no shed beyond the load's drift"

    schedule.write_text(json.dumps([{"startsAt": T0 + 2700, "endsAt": T0 + 3600, "gpus": 8}]))
    after, window = _epoch(site)
    shed = curtailment_compliance(after, window, T0 + 2700, T0 + 3600)
    assert shed["measured"] and int(shed["shed_bps"]) > 8_000, shed  # the miners stop and 8 GPUs idle
    m0, m1 = before.measurement, after.measurement
    assert m1.mining_energy_wh < m0.mining_energy_wh * 0.8
    assert m1.facility_energy_wh < m0.facility_energy_wh and m1.gpu_energy_wh < m0.gpu_energy_wh
    assert m1.facility_energy_wh >= m1.gpu_energy_wh + m1.mining_energy_wh


def test_nvml_power_cap_held_during_the_event_and_restored() -> None:
    nv = FakeNvml(2)
    nv.limits = {0: 700_000, 1: 700_000}
    cap = NvmlPowerCap(300, nvml=nv)  # type: ignore[arg-type]
    cap.apply(True)
    assert nv.limits == {0: 300_000, 1: 300_000}
    cap.apply(True)  # already capped: no NVML call needed
    cap.apply(False)
    assert nv.limits == {0: 700_000, 1: 700_000}
    below = NvmlPowerCap(50, nvml=nv)  # type: ignore[arg-type]
    below.apply(True)
    assert nv.limits == {0: 200_000, 1: 200_000}, "clamped to the lowest limit the GPU accepts"


def test_checker_refuses_understated_carbon_and_overstated_mining_revenue() -> None:
    ours = Observation(
        observer=1,
        uptimeBps=10_000,
        gpuEnergyWh=40_000,
        facilityEnergyWh=80_000,
        miningEnergyWh=30_000,
        miningRevenue=1_455_000,
        renewableBps=5_000,
        carbonGramsPerKwh=200,
        evidenceHash=b"\0" * 32,
    )
    t = Tolerances()
    assert report_differences(ours, ours, t) == []
    greener = ours.model_copy(update={"carbon_grams_per_kwh": 150})
    assert report_differences(ours, greener, t) == [("carbonGramsPerKwh", 200, 150)]
    richer = ours.model_copy(update={"mining_revenue": 1_600_000, "mining_energy_wh": 40_000})
    assert report_differences(ours, richer, t) == [
        ("miningEnergyWh", 30_000, 40_000),
        ("miningRevenue", 1_455_000, 1_600_000),
    ]
