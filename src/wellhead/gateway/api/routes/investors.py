"""Investors: an account's positions across assets and markets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from wellhead.gateway.api.paging import json_response
from wellhead.gateway.deps import S, Svc
from wellhead.gateway.queries.positions import positions
from wellhead.gateway.schemas.common import ADDRESS_SCHEMA, parse_address
from wellhead.gateway.schemas.positions import PositionsOut

router = APIRouter(tags=["investors"])


@router.get("/accounts/{account}/positions", operation_id="getPositions", response_model=PositionsOut)
def get_positions(
    s: S, svc: Svc, account: Annotated[str, Path(description="an address", json_schema_extra=ADDRESS_SCHEMA)]
) -> Response:
    return json_response(positions(s, svc, parse_address(account, "account")))
