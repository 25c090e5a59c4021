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


def test_a_page_inside_settled_history_is_served_from_memory_and_matches_the_database(tmp_path: Path) -> None:
    """Once an index version is known (pushed) and the page was rendered, a page of settled epochs with one
    after it takes no database statement; every page, fast or not, is what the database says."""
    from sqlalchemy import event

    sessions = _index(tmp_path)
    replica = _replica(sessions)
    services: Services = replica.app.state.services  # type: ignore[attr-defined]
    services.responses.versions.push((1, 0))  # as an indexer's NOTIFY would
    pages = {
        "limit=2": ([0, 1], True),  # inside settled history, epoch 2 after it: from memory
        "limit=3": ([0, 1, 2], True),
        "limit=4": ([0, 1, 2, 3], True),  # epoch 4 (unsettled) follows: the database says so
        "limit=5": ([0, 1, 2, 3, 4], False),
        "limit=2&to=1700007200": ([0, 1], False),  # `to` ends it there
    }
    for query, (epochs, more) in pages.items():
        body = replica.get(f"/api/v1/assets/1/epochs?{query}").json()
        assert [e["epoch"] for e in body["items"]] == epochs and (body["next_cursor"] is not None) == more, query
    rendered = replica.get("/api/v1/assets/1/epochs?limit=2")  # its fragments cached, read from the index
    statements: list[str] = []
    bind = sessions.kw["bind"]
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(bind, "before_cursor_execute", listener)
    try:
        first = replica.get("/api/v1/assets/1/epochs?limit=1")
        cursor_page = replica.get(f"/api/v1/assets/1/epochs?limit=2&cursor={first.json()['next_cursor']}")
        services.responses.versions.push((9, 0))  # blocks indexed since, settled history not revised
        again = replica.get("/api/v1/assets/1/epochs?limit=2")
    finally:
        event.remove(bind, "before_cursor_execute", listener)
    assert [e["epoch"] for e in cursor_page.json()["items"]] == [1, 2]
    assert statements == [], statements
    assert (again.content, again.headers["etag"]) == (rendered.content, rendered.headers["etag"]), "same either way"


def test_a_revision_of_settled_history_is_never_served_from_memory(tmp_path: Path) -> None:
    """The pushed version carries the revision: once an equivocation is proven on a settled epoch (or a reorg
    rolls one back), pages held in memory for the old revision are not served."""
    sessions = _index(tmp_path)
    replica = _replica(sessions)
    services: Services = replica.app.state.services  # type: ignore[attr-defined]
    services.responses.versions.push((1, 0))
    for _ in range(2):  # rendered, then from memory
        before = replica.get(PAGE)
    with sessions() as s:
        event = SimpleNamespace(args={"assetId": 1, "epoch": 1, "attestor": ATTESTOR, "slashed": 5})
        equivocation_proven(Batch(s), event)  # type: ignore[arg-type]
        s.commit()
    services.responses.versions.push((1, 1))  # the indexer's NOTIFY after the revision
    after = replica.get(PAGE, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert after.json()["items"][1]["attestation"]["equivocations"] == [{"attestor": ATTESTOR, "slashed": "5"}]
