"""The energy accounting shared by the demo and the gateway: exact, conserving, rounded as documented."""

from __future__ import annotations

from wellhead.core.energy import (
    carbon_free_wh,
    carbon_grams,
    lease_energy_wh,
    per_kwh,
    split_by_use,
    wh_per_delivered_gpu_hour,
)


def test_split_conserves_the_facility_energy() -> None:
    for facility, gpu, mining in ((96_000, 30_000, 52_000), (1, 1, 1), (77_303, 48_000, 0), (10, 0, 7)):
        s = split_by_use(facility, gpu, mining, 0, 0)
        assert s.ai_wh + s.mining_wh == facility
    s = split_by_use(96_000, 30_000, 52_000, 98_600_000, 2_522_000)
    # the miners' share is rounded down (96,000 x 52/82 = 60,878.04); the AI side takes the remainder
    assert (s.ai_wh, s.mining_wh) == (35_122, 60_878)
    assert s.ai_revenue_per_kwh == 2_807_357  # 98.6 per 35.122 kWh, in base units, rounded down
    assert s.mining_revenue_per_kwh == 41_427


def test_edges_are_none_or_zero_not_errors() -> None:
    assert split_by_use(0, 0, 0, 5, 5).ai_revenue_per_kwh is None
    assert split_by_use(1_000, 0, 0, 5, 0).mining_revenue_per_kwh is None
    assert per_kwh(5, 0) is None
    assert wh_per_delivered_gpu_hour(1_000, 8, 3600, 0) is None
    assert wh_per_delivered_gpu_hour(5_600, 8, 3600, 10_000) == 700
    assert carbon_grams(1, 1) == 1, "emissions round up"
    assert carbon_free_wh(999, 10_000) == 999 and carbon_free_wh(999, 9_999) == 998, "carbon-free rounds down"
    assert lease_energy_wh(96_000, 30_000, 52_000, 16, 64) == 35_122 * 16 // 64
