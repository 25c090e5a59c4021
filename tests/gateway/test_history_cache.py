"""Settled history in caches: a settled epoch amended after the fact (an equivocation proven: proofs have no
deadline) is served anew by the replica that rendered it, and pages of settled epochs are kept by caches for a
minute, never `immutable`; If-None-Match across several header lines is one list."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from wellhead.core.units import use_stablecoin_decimals
from wellhead.gateway import db
from wellhead.gateway.app import create_app
from wellhead.gateway.db import engine_for, migrate, session_factory
from wellhead.gateway.index.batch import Batch
from wellhead.gateway.index.reports import equivocation_proven
from wellhead.gateway.services import Services
from wellhead.gateway.services.auth import Auth

ATTESTOR = "0x" + "ab" * 20
PAGE = "/api/v1/assets/1/epochs?limit=2"


def _index(tmp: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp / 'gw.db'}"
    migrate(url)
    sessions = session_factory(engine_for(url))
    with sessions.begin() as s:
        s.add(db.Asset(id=1, operator="0x" + "11" * 20, shares="0x" + "22" * 20, site_id="0x00", gpu_class="0x00",
                       gpu_count=8, max_watts_per_gpu=700, epoch_length=3600, genesis=1_700_000_000, status=1,
                       nav_feed=None, registered_block=1, attestors={"addresses": [ATTESTOR]},
                       fault_tolerance=0))  # fmt: skip
        for e in range(4):
            s.add(db.Epoch(asset_id=1, epoch=e, reported=True, settled=True, proven=True, uptime_bps=10_000,
                           report_status="pending", attestation={"digest": "0x00", "observers": [1]},
                           delivered=100, protocol_fee=1, operator_fee=1, holders_revenue=98, service_credit=0,
                           settled_at=1))  # fmt: skip
        s.add(db.Epoch(asset_id=1, epoch=4, reported=False, settled=False))
    return sessions


def _replica(sessions: sessionmaker[Session]) -> TestClient:
    """The API alone, on the index (the routes here never ask the chain)."""
    use_stablecoin_decimals(6)
    auth = Auth("testserver", 31337, 86_400, 1_000, 1_000)
    return TestClient(create_app(Services(sessions, None, None, auth, None, None)))  # type: ignore[arg-type]


def test_an_equivocation_proven_on_a_settled_epoch_reaches_the_replica_that_cached_it(tmp_path: Path) -> None:
    sessions = _index(tmp_path)
    replica = _replica(sessions)
    first = replica.get(PAGE)
    assert first.headers["cache-control"] == "public, max-age=60", "kept a minute by caches, not for a year"
    assert "equivocations" not in first.json()["items"][1]["attestation"]
    with sessions() as s:  # what the indexer does with EquivocationProven(asset 1, epoch 1), after settlement
        event = SimpleNamespace(args={"assetId": 1, "epoch": 1, "attestor": ATTESTOR, "slashed": 5})
        equivocation_proven(Batch(s), event)  # type: ignore[arg-type]
        s.commit()
    later = replica.get(PAGE, headers={"If-None-Match": first.headers["etag"]})
    assert later.status_code == 200, "the cached fragment was served (a 304 for the old body)"
    assert later.json()["items"][1]["attestation"]["equivocations"] == [{"attestor": ATTESTOR, "slashed": "5"}]


def test_if_none_match_over_several_lines_is_one_list(tmp_path: Path) -> None:
    replica = _replica(_index(tmp_path))
    tag = replica.get(PAGE).headers["etag"]
    again = replica.get(PAGE, headers=[("If-None-Match", '"other"'), ("If-None-Match", tag)])
    assert again.status_code == 304
