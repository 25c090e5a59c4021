"""Assets and their history: epochs with their observations, grid events, energy, NAV rounds."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from wellhead.gateway.schemas.common import Amount


class AssetOut(BaseModel):
    id: int
    operator: str
    shares: str
    site_id: str
    gpu_class: str
    gpu_count: int
    max_watts_per_gpu: int
    epoch_length: int
    genesis: int
    status: str
    nav_feed: str | None
    leased_gpus: int = Field(description="GPUs under leases in the epoch of the newest indexed block")
    utilization_bps: int
    price_per_share: Amount | None = Field(description="the latest NAV round's price per share")


class AssetDetailOut(AssetOut):
    quote_firm_per_gpu_hour: Amount | None = Field(description="live: the curve price of one more firm GPU")
    quote_interruptible_per_gpu_hour: Amount | None
    available_gpus: int | None = Field(description="live: GPUs not committed to any lease")


class ObservationOut(BaseModel):
    """One attestor's signed observation in the epoch's accepted report."""

    observer: int = Field(description="the attestor's 1-based index in the asset's set")
    attestor: str
    uptime_bps: int
    curtailed_bps: int
    gpu_energy_wh: str
    facility_energy_wh: str
    mining_energy_wh: str
    mining_revenue: Amount
    renewable_bps: int
    carbon_grams_per_kwh: int
    evidence_hash: str = Field(description="its raw evidence: GET /api/v1/evidence/{hash}")
    valid: bool = Field(description="false once an on-chain proof showed its signature forged")


class EpochOut(BaseModel):
    asset_id: int
    epoch: int
    starts_at: int
    ends_at: int
    reported: bool
    settled: bool
    proven: bool | None
    uptime_bps: int | None
    curtailed_bps: int | None
    gpu_energy_wh: str | None
    facility_energy_wh: str | None
    renewable_bps: int | None
    carbon_grams_per_kwh: int | None
    evidence_hash: str | None = Field(description="the evidence of the observation whose uptime is the median")
    signers: list[str] = Field(description="the attestors who co-signed the accepted report")
    report_status: str | None = Field(
        description="pending, challenged, upheld, corrected or voided (none: no report accepted)"
    )
    observations: list[ObservationOut] = Field(description="every observation the report carried")
    attestation: dict[str, Any] | None = Field(
        description="the report's digest, observers and co-signers (indexes), and any challenge, verdict, fault "
        "proof or equivocation"
    )
    delivered: Amount | None
    holders_revenue: Amount | None
    protocol_fee: Amount | None
    operator_fee: Amount | None
    service_credit: Amount | None
    revenue_per_kwh: Amount | None = Field(description="holders' revenue per facility kWh, rounded down")
    mining_energy_wh: str | None = Field(description="hybrid sites: what the Bitcoin miners drew")
    mining_revenue: Amount | None = Field(description="hybrid sites: the pool's earnings in the epoch")
    ai_energy_wh: str | None = Field(description="the GPUs' share of facility energy (split by the two meters)")
    ai_revenue_per_kwh: Amount | None = Field(description="lease revenue (delivered) per kWh of the AI share")
    mining_revenue_per_kwh: Amount | None = Field(description="pool earnings per kWh of the mining share")
    gpu_wh_per_delivered_gpu_hour: int | None = Field(description="GPU energy per GPU-hour delivered healthy")
    carbon_free_energy_wh: str | None = Field(description="facility energy x renewable share, rounded down")


class GridEventOut(BaseModel):
    event_id: str
    asset_id: int
    source: str
    starts_at: int
    ends_at: int
    payload_hash: str
    signer: str
    declared_at: int
    energy_income: Amount = Field(description="demand-response and energy credits deposited with this reference")
    holders_income: Amount


class EnergyOut(BaseModel):
    """An asset's energy side over its settled epochs that had a report: each use's energy and revenue side
    by side, green energy, and the demand-response income it earned."""

    asset_id: int
    epochs: int
    ai_energy_wh: str
    mining_energy_wh: str
    ai_revenue: Amount
    mining_revenue: Amount
    ai_revenue_per_kwh: Amount | None
    mining_revenue_per_kwh: Amount | None
    carbon_free_energy_wh: str
    certificates_retired: int
    certificate_energy_wh: str
    energy_income: Amount
    energy_income_to_holders: Amount


class NavRoundOut(BaseModel):
    asset_id: int
    round_id: int
    epoch: int
    price_per_share: Amount
    annual_revenue_per_share: Amount
    uptime_bps: int
    remaining_life_seconds: int
    recorded_at: int
    lending_price: Amount | None = Field(
        None, description="what loans use: the lowest life-capped window price of the last K windows"
    )
    full_windows: int | None = Field(None, description="consecutive full windows behind the round, up to K")
