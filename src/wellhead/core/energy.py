"""Energy accounting of a settled epoch, shared by the demo and the gateway: integers only, rounded down.

A hybrid site's facility energy (GPUs, Bitcoin miners, cooling and the rest) is split between its two uses
in proportion to what each one's own meter drew; each use's revenue per kWh is its revenue over its share.
"""

from __future__ import annotations

from dataclasses import dataclass

from wellhead.core.constants import BPS


@dataclass(frozen=True)
class EnergySplit:
    ai_wh: int  # the GPUs' share of the facility's energy
    mining_wh: int  # the miners' share
    ai_revenue_per_kwh: int | None  # stablecoin base units per kWh
    mining_revenue_per_kwh: int | None


def per_kwh(amount: int, wh: int) -> int | None:
    return amount * 1_000 // wh if wh > 0 else None


def split_by_use(facility_wh: int, gpu_wh: int, mining_wh: int, ai_revenue: int, mining_revenue: int) -> EnergySplit:
    """Facility energy split in proportion to the GPU and mining meters (the AI side takes the rounding)."""
    load = gpu_wh + mining_wh
    mining_share = facility_wh * mining_wh // load if load else 0
    ai_share = facility_wh - mining_share
    return EnergySplit(ai_share, mining_share, per_kwh(ai_revenue, ai_share), per_kwh(mining_revenue, mining_share))


def lease_energy_wh(facility_wh: int, gpu_wh: int, mining_wh: int, lease_gpus: int, asset_gpus: int) -> int:
    """A lease's share of an epoch's AI energy: its GPUs over the asset's."""
    return split_by_use(facility_wh, gpu_wh, mining_wh, 0, 0).ai_wh * lease_gpus // asset_gpus


def wh_per_delivered_gpu_hour(gpu_wh: int, gpus: int, epoch_length: int, uptime_bps: int) -> int | None:
    """GPU energy over the GPU-hours delivered healthy (the whole asset's GPUs, as the report measures them)."""
    delivered_gpu_seconds = gpus * epoch_length * uptime_bps // BPS
    return gpu_wh * 3600 // delivered_gpu_seconds if delivered_gpu_seconds else None


def carbon_free_wh(wh: int, renewable_bps: int) -> int:
    return wh * renewable_bps // BPS


def carbon_grams(wh: int, grams_per_kwh: int) -> int:
    """Emissions, rounded up (never understated)."""
    return -(-wh * grams_per_kwh // 1_000)
