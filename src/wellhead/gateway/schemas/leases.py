"""Leases: their terms, what they paid and got back, and the energy their GPUs used."""

from __future__ import annotations

from pydantic import BaseModel, Field

from wellhead.gateway.schemas.common import Amount


class LeaseOut(BaseModel):
    id: int
    asset_id: int
    lessee: str
    owner: str
    lease_class: str
    gpus: int
    start_epoch: int
    end_epoch: int
    price_per_gpu_hour: Amount
    rate_per_epoch: Amount
    prepaid: Amount
    refunded: Amount
    service_credit: Amount
    closed_refund: Amount
    energy_wh: str = Field(description="the lease's GPUs' share of the AI energy of its reported epochs")
    carbon_free_energy_wh: str = Field(description="of which carbon-free (each epoch's renewable share)")
    carbon_grams: str = Field(description="emissions of that energy at each epoch's intensity, rounded up")
