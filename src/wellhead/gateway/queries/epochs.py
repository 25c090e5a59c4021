"""An epoch of an asset's history rendered as JSON (the fragments `epoch_pages.py` assembles pages from), and
the asset terms that rendering needs, cached per replica."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from wellhead.core.energy import carbon_free_wh, split_by_use, wh_per_delivered_gpu_hour
from wellhead.core.units import stablecoin_decimals
from wellhead.gateway.queries.assets import require_asset


@dataclass(frozen=True)
class AssetTerms:
    """What an epoch's page needs of its asset: terms fixed at registration."""

    id: int
    genesis: int
    epoch_length: int
    gpu_count: int


class TermsCache:
    """Each asset's terms in this replica's memory, by revision of settled history (a reorg may remove the
    asset): an epoch page asks the database for them once, not on every request."""

    MAX_ENTRIES = 100_000

    def __init__(self) -> None:
        self._terms: dict[tuple[int, int], AssetTerms] = {}

    def peek(self, asset_id: int, revision: int) -> AssetTerms | None:
        return self._terms.get((asset_id, revision))

    def get(self, s: Session, asset_id: int, revision: int) -> AssetTerms:
        """The asset's terms; a 404 problem for an asset that is not indexed (asked again every time)."""
        terms = self._terms.get((asset_id, revision))
        if terms is None:
            a = require_asset(s, asset_id)
            terms = AssetTerms(a.id, a.genesis, a.epoch_length, a.gpu_count)
            if len(self._terms) >= self.MAX_ENTRIES:
                self._terms.clear()
            self._terms[(asset_id, revision)] = terms
        return terms


def amount_json(value: int | None) -> dict[str, str] | None:
    if value is None:
        return None
    decimals = stablecoin_decimals()
    whole, frac = divmod(value, 10**decimals)
    return {"base_units": str(value), "decimal": f"{whole}.{frac:0{decimals}d}"}


def uint(value: int | str | None) -> int | None:
    return None if value is None else int(value)


def observation_json(o: Any) -> dict[str, Any]:
    return {
        "observer": o.observer,
        "attestor": o.attestor,
        "uptime_bps": o.uptime_bps,
        "curtailed_bps": o.curtailed_bps,
        "gpu_energy_wh": str(o.gpu_energy_wh),
        "facility_energy_wh": str(o.facility_energy_wh),
        "mining_energy_wh": str(o.mining_energy_wh),
        "mining_revenue": amount_json(uint(o.mining_revenue)),
        "renewable_bps": o.renewable_bps,
        "carbon_grams_per_kwh": o.carbon_grams_per_kwh,
        "evidence_hash": o.evidence_hash,
        "valid": bool(o.valid),
    }


def epoch_json(asset: AssetTerms, e: Any, observations: list[Any]) -> bytes:
    """One epoch as EpochOut's JSON, from a row of the epochs table (amounts are decimal text there) and its
    observations. Built as a dict, not through the model: this is the hot path of the epoch history."""
    holders, facility = uint(e.holders_revenue), uint(e.facility_energy_wh)
    per_kwh = holders * 1_000 // facility if holders is not None and facility else None
    signers: dict[str, Any] = e.signers or {}
    body = {
        "asset_id": e.asset_id,
        "epoch": e.epoch,
        "starts_at": asset.genesis + e.epoch * asset.epoch_length,
        "ends_at": asset.genesis + (e.epoch + 1) * asset.epoch_length,
        "reported": bool(e.reported),
        "settled": bool(e.settled),
        "proven": None if e.proven is None else bool(e.proven),
        "uptime_bps": e.uptime_bps,
        "curtailed_bps": e.curtailed_bps,
        "gpu_energy_wh": None if e.gpu_energy_wh is None else str(e.gpu_energy_wh),
        "facility_energy_wh": None if facility is None else str(facility),
        "renewable_bps": e.renewable_bps,
        "carbon_grams_per_kwh": e.carbon_grams_per_kwh,
        "evidence_hash": e.evidence_hash,
        "signers": list(signers.get("addresses", [])),
        "report_status": e.report_status,
        "observations": [observation_json(o) for o in observations],
        "attestation": e.attestation,
        "delivered": amount_json(uint(e.delivered)),
        "holders_revenue": amount_json(holders),
        "protocol_fee": amount_json(uint(e.protocol_fee)),
        "operator_fee": amount_json(uint(e.operator_fee)),
        "service_credit": amount_json(uint(e.service_credit)),
        "revenue_per_kwh": amount_json(per_kwh),
        **energy_fields(asset, e),
    }
    return json.dumps(body, separators=(",", ":")).encode()


ENERGY_FIELDS = (
    "mining_energy_wh",
    "mining_revenue",
    "ai_energy_wh",
    "ai_revenue_per_kwh",
    "mining_revenue_per_kwh",
    "gpu_wh_per_delivered_gpu_hour",
    "carbon_free_energy_wh",
)


def metered(e: Any) -> tuple[int, int, int]:
    """An epoch row's facility, GPU and mining energy (Wh; zero where not reported)."""
    return uint(e.facility_energy_wh) or 0, uint(e.gpu_energy_wh) or 0, uint(e.mining_energy_wh) or 0


def energy_fields(asset: AssetTerms, e: Any) -> dict[str, Any]:
    """An epoch's hybrid split and green values (None before its report)."""
    if not e.reported:
        return dict.fromkeys(ENERGY_FIELDS)
    facility, gpu, mining = metered(e)
    mining_revenue = uint(e.mining_revenue) or 0
    split = split_by_use(facility, gpu, mining, uint(e.delivered) or 0, mining_revenue)
    return {
        "mining_energy_wh": str(mining),
        "mining_revenue": amount_json(mining_revenue),
        "ai_energy_wh": str(split.ai_wh),
        "ai_revenue_per_kwh": amount_json(split.ai_revenue_per_kwh) if e.settled else None,
        "mining_revenue_per_kwh": amount_json(split.mining_revenue_per_kwh),
        "gpu_wh_per_delivered_gpu_hour": wh_per_delivered_gpu_hour(
            gpu, asset.gpu_count, asset.epoch_length, e.uptime_bps or 0
        ),
        "carbon_free_energy_wh": str(carbon_free_wh(facility, e.renewable_bps or 0)),
    }
