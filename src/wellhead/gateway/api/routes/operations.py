"""Operations: liveness, readiness and Prometheus metrics, at the root (outside /api/v1, which is the product).

`/healthz` answers as long as the process serves. `/readyz` answers 200 only when the database answers, the
RPC node answers, and the index is within `ready_lag_blocks` of the chain head (a 503 problem otherwise, naming
what is not ready), so a load balancer sends no reader to a replica with a stale or broken index. `/metrics`
exposes the index's lag in blocks and seconds and, per asset, how many reported epochs are not settled yet.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from web3.exceptions import Web3Exception

from wellhead.gateway import db
from wellhead.gateway.deps import S, Svc
from wellhead.gateway.problems import Problem

router = APIRouter(tags=["operations"])
READY_LAG_BLOCKS = 50


def _lag(s: S, svc: Svc) -> tuple[int, int, int]:
    """(chain head, next block to index, blocks behind)."""
    state = s.get(db.IndexerState, "next_block")
    next_block = 0 if state is None else int(state.value)
    head = int(svc.w3.eth.block_number)
    return head, next_block, max(0, head + 1 - next_block)


@router.get("/healthz", operation_id="healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", operation_id="readyz", include_in_schema=False)
def readyz(s: S, svc: Svc) -> dict[str, object]:
    try:
        s.execute(text("SELECT 1"))
    except SQLAlchemyError:
        raise Problem(503, "not_ready", "the database does not answer") from None
    try:
        head, next_block, behind = _lag(s, svc)
    except (OSError, ValueError, Web3Exception):
        raise Problem(503, "not_ready", "the RPC node does not answer") from None
    if behind > READY_LAG_BLOCKS:
        raise Problem(503, "not_ready", f"the index is {behind} blocks behind the chain head {head}")
    return {"status": "ready", "head": head, "next_block": next_block}


@router.get("/metrics", operation_id="metrics", include_in_schema=False)
def metrics(s: S, svc: Svc) -> Response:
    m = svc.metrics
    try:
        head, next_block, behind = _lag(s, svc)
        m.head.set(head)
        m.next_block.set(next_block)
        m.lag_blocks.set(behind)
        if next_block > 0:
            newest = svc.w3.eth.get_block(next_block - 1)
            m.lag_seconds.set(max(0.0, time.time() - float(newest["timestamp"])))
    except (OSError, ValueError, Web3Exception):
        pass  # the RPC node is down: the gauges keep their last values, /readyz says why
    rows = s.execute(
        select(db.Epoch.asset_id, func.count())
        .where(db.Epoch.reported.is_(True), db.Epoch.settled.is_(False))
        .group_by(db.Epoch.asset_id)
    ).all()
    lagging = {int(asset): int(count) for asset, count in rows}
    for asset in s.scalars(select(db.Asset.id)):
        m.settlement_lag.labels(asset=str(asset)).set(lagging.get(int(asset), 0))
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
