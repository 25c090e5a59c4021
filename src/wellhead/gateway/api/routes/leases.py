"""Leases: the list, filtered by lessee, owner or asset, and one lease."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from wellhead.gateway import db
from wellhead.gateway.api.paging import Cursor, Limit, json_response, paginate
from wellhead.gateway.deps import S
from wellhead.gateway.problems import Problem
from wellhead.gateway.queries.assets import require_asset
from wellhead.gateway.queries.leases import lease_energy, lease_out
from wellhead.gateway.schemas.common import ADDRESS_SCHEMA, Page, parse_address
from wellhead.gateway.schemas.leases import LeaseOut

router = APIRouter(prefix="/leases", tags=["leases"])


@router.get("", operation_id="listLeases", response_model=Page[LeaseOut])
def list_leases(
    s: S,
    limit: Limit = 100,
    cursor: Cursor = None,
    lessee: Annotated[
        str | None, Query(description="the address that opened the lease", json_schema_extra=ADDRESS_SCHEMA)
    ] = None,
    owner: Annotated[
        str | None, Query(description="the lease NFT's current owner", json_schema_extra=ADDRESS_SCHEMA)
    ] = None,
    asset_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    q = select(db.Lease)
    if lessee is not None:
        q = q.where(db.Lease.lessee == parse_address(lessee, "lessee"))
    if owner is not None:
        q = q.where(db.Lease.owner == parse_address(owner, "owner"))
    if asset_id is not None:
        require_asset(s, asset_id)
        q = q.where(db.Lease.asset_id == asset_id)

    def present(rows: list[db.Lease]) -> list[LeaseOut]:
        energy = lease_energy(s, rows)
        return [lease_out(r, energy[r.id]) for r in rows]

    return paginate(s, q, db.Lease.id, limit, cursor, present)


@router.get("/{lease_id}", operation_id="getLease", response_model=LeaseOut)
def get_lease(s: S, lease_id: int) -> Response:
    lease = s.get(db.Lease, lease_id) if 0 < lease_id < 2**63 else None
    if lease is None:
        raise Problem(404, "lease_not_found", f"no lease {lease_id}", "lease_id")
    return json_response(lease_out(lease, lease_energy(s, [lease])[lease.id]))
