"""The hot reads answered before routing (`gateway/hot_reads.py`) answer exactly what the routes do, bytes and
headers alike, for well-formed and malformed queries; they take no database statement; a credential or an
exhausted anonymous allowance still goes through the route's checks."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.gateway.test_history_cache import _index, _replica
from wellhead.gateway.hot_reads import MAX_QUERY, HotReads, history_page
from wellhead.gateway.queries.history import PageRequest
from wellhead.gateway.services import Services
from wellhead.gateway.services.limits import LocalRateLimiter

HISTORY = "/api/v1/assets/1/epochs"


def _cursor(epoch: int) -> str:
    return base64.urlsafe_b64encode(f"[{epoch}]".encode()).decode().rstrip("=")


QUERIES = [
    "limit=2",
    f"limit=2&cursor={_cursor(0)}",
    f"cursor={_cursor(0)}&limit=1",
    "limit=1&from=1700003600",
    "limit=2&to=1700010800",
    "",
    "limit=0",
    "limit=501",
    "limit=02",
    "limit=%32",
    "limit=+2",
    "limit=abc",
    "limit=",
    "limit=2&limit=3",
    "limit=2&extra=1",
    "cursor=zzz",
    f"cursor={_cursor(-1)}",
    "cursor=" + "A" * 201,
    "from=-1",
    "to=9223372036854775808",
    "limit=2&&",
]


def _without_hot_reads(replica: TestClient) -> TestClient:
    """The same API on the same services (and caches), without the hot layer."""
    from wellhead.gateway.app import create_app

    other = create_app(replica.app.state.services)  # type: ignore[attr-defined]
    other.user_middleware = [m for m in other.user_middleware if m.cls is not HotReads]  # type: ignore[comparison-overlap]
    return TestClient(other)


@pytest.mark.parametrize("path", [HISTORY, "/api/v1/assets/2/epochs", "/api/v1/assets"])
def test_hot_answers_are_the_routes_answers(tmp_path: Path, path: str) -> None:
    sessions = _index(tmp_path)
    hot = _replica(sessions)
    services: Services = hot.app.state.services  # type: ignore[attr-defined]
    services.responses.versions.push((1, 0))
    plain = _without_hot_reads(hot)
    for query in QUERIES:
        url = f"{path}?{query}" if query else path
        for _ in range(2):  # the first renders into the caches both apps share; the second may be hot
            a, b = hot.get(url), plain.get(url)
            assert (a.status_code, a.content) == (b.status_code, b.content), url
            for header in ("etag", "cache-control", "content-type", "x-content-type-options"):
                assert a.headers.get(header) == b.headers.get(header), (url, header)


def test_a_hot_page_takes_no_statement_and_a_credential_still_goes_through_the_route(tmp_path: Path) -> None:
    sessions = _index(tmp_path)
    replica = _replica(sessions)
    services: Services = replica.app.state.services  # type: ignore[attr-defined]
    services.responses.versions.push((1, 0))
    replica.get(f"{HISTORY}?limit=2")
    replica.get("/api/v1/assets")
    statements: list[str] = []
    bind = sessions.kw["bind"]
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(bind, "before_cursor_execute", listener)
    try:
        assert replica.get(f"{HISTORY}?limit=2").status_code == 200
        assert replica.get("/api/v1/assets").status_code == 200
        assert statements == [], statements
        made_up = replica.get(f"{HISTORY}?limit=2", headers={"X-API-Key": "wh_made_up"})
    finally:
        event.remove(bind, "before_cursor_execute", listener)
    assert made_up.status_code == 401, "a credential is checked by the route, never skipped by a hot answer"


def test_the_anonymous_allowance_holds_on_hot_answers(tmp_path: Path) -> None:
    sessions = _index(tmp_path)
    replica = _replica(sessions)
    services: Services = replica.app.state.services  # type: ignore[attr-defined]
    services.auth.limiter, services.auth.anonymous_rate = LocalRateLimiter(), 5
    services.responses.versions.push((1, 0))
    codes = [replica.get(f"{HISTORY}?limit=2").status_code for _ in range(7)]
    assert codes == [200] * 5 + [429] * 2


def test_history_page_reads_only_what_the_route_accepts() -> None:
    assert history_page(b"") == PageRequest(None, None, None, 100)
    assert history_page(f"limit=7&cursor={_cursor(4)}&from=1&to=2".encode()) == PageRequest(4, 1, 2, 7)
    for query in ("limit=0", "limit=501", "limit=2&limit=2", "x=1", "from=-1", "cursor=%ff", "to=9223372036854775808"):
        assert history_page(query.encode()) is None, query
    assert history_page(b"limit=500") == PageRequest(None, None, None, 500), "the bound itself is allowed"
    assert history_page(b"to=9223372036854775807") is not None
    longest = "limit=" + "0" * 17 + "10&from=" + "0" * 18 + "1&to=" + "0" * 17 + "99&cursor="
    longest += base64.urlsafe_b64encode(b"[" + b" " * 147 + b"5]").decode().rstrip("=")
    assert len(longest) == MAX_QUERY and history_page(longest.encode()) == PageRequest(5, 1, 99, 10)
    assert history_page(longest.encode() + b"&") is None, "longer than any well-formed query: the route's, unparsed"
