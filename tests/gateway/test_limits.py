"""The rate limit's rule, pinned at its edges, in memory (SQLite's single process) and in the database (every
replica on PostgreSQL): a minute's allowance in one burst, then one request per 60 / rate seconds."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from wellhead.gateway.services.limits import LocalRateLimiter, RateLimiter, SharedRateLimiter, limiter_for


@pytest.mark.parametrize("kind", ["local", "shared"])
def test_a_minutes_allowance_then_one_per_interval(kind: str, sessions: sessionmaker[Session]) -> None:
    clock = [1_000_000.0]
    limiter: RateLimiter = (
        LocalRateLimiter(lambda: clock[0]) if kind == "local" else SharedRateLimiter(sessions, lambda: clock[0])
    )
    assert [limiter.take("ip:203.0.113.9", 3) for _ in range(3)] == [0.0, 0.0, 0.0], "the whole minute at once"
    assert limiter.take("ip:203.0.113.9", 3) == 20.0, "the fourth waits one interval (60 s / 3)"
    assert limiter.take("ip:198.51.100.1", 3) == 0.0, "another key has its own allowance"
    clock[0] += 19.5
    assert limiter.take("ip:203.0.113.9", 3) == 0.5, "a refused request spent nothing"
    clock[0] += 0.5
    assert limiter.take("ip:203.0.113.9", 3) == 0.0, "exactly one interval later: one more"
    assert limiter.take("ip:203.0.113.9", 3) == 20.0


def test_postgres_shares_the_limit_and_sqlite_keeps_it_in_memory(sessions: sessionmaker[Session]) -> None:
    bind = sessions.kw["bind"]
    expected = SharedRateLimiter if bind.dialect.name == "postgresql" else LocalRateLimiter
    assert isinstance(limiter_for(sessions), expected)
    if expected is SharedRateLimiter:
        first, second = SharedRateLimiter(sessions), SharedRateLimiter(sessions)  # two replicas
        assert [first.take("key:7", 2), second.take("key:7", 2)] == [0.0, 0.0]
        assert first.take("key:7", 2) > 0 and second.take("key:7", 2) > 0, "the allowance was shared"


def test_a_busy_key_leases_a_seconds_allowance_and_never_exceeds_the_shared_one(
    sessions: sessionmaker[Session],
) -> None:
    """6,000 a minute: each replica takes 100 requests in one statement and spends them itself for a second; two
    replicas together are never allowed more than the minute's 6,000, and spend it in 60 statements or so, not
    6,000 (a write per request held every read behind the database)."""
    from sqlalchemy import event

    clock = [1_000_000.0]
    replicas = [SharedRateLimiter(sessions, lambda: clock[0]) for _ in range(2)]
    writes = [0]
    bind = sessions.kw["bind"]

    def count(conn: object, cursor: object, statement: str, *_: object) -> None:
        writes[0] += statement.lstrip().upper().startswith("INSERT INTO RATE_LIMITS")

    event.listen(bind, "before_cursor_execute", count)
    try:
        allowed = [replicas[i % 2].take("ip:203.0.113.9", 6_000) for i in range(6_000)]
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert allowed == [0.0] * 6_000 and writes[0] == 60, f"{writes[0]} statements for a minute's allowance"
    assert replicas[0].take("ip:203.0.113.9", 6_000) > 0 and replicas[1].take("ip:203.0.113.9", 6_000) > 0, (
        "not a request beyond the shared allowance, through either replica"
    )
    clock[0] += 1.5  # 150 requests' worth of time later: one lease more
    assert replicas[0].take("ip:203.0.113.9", 6_000) == 0.0
    clock[0] += 1.5  # that lease lapsed with 99 unspent: they are not spent later (nor given back)
    spent = [replicas[0].take("ip:203.0.113.9", 6_000) for _ in range(300)]
    assert spent.count(0.0) == 200, "3 s of allowance (300) is 1 spent + 99 lapsed + these 200"


def _count_takes(sessions: sessionmaker[Session], delay: float = 0.0) -> tuple[list[int], Callable[..., None]]:
    """A counter of the statements that take from the shared allowance (each delayed by `delay` seconds)."""
    import time

    writes = [0]

    def count(conn: object, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO RATE_LIMITS"):
            writes[0] += 1
            time.sleep(delay)

    return writes, count


def test_a_lease_running_low_is_renewed_ahead_so_requests_never_wait_for_it(sessions: sessionmaker[Session]) -> None:
    """Spending without the database (`take_now`, the event loop's path) renews the lease on a thread of its own
    once a quarter is left: the next 124 requests (24 held + 100 renewed) need no request to wait for a lease."""
    from sqlalchemy import event

    limiter = SharedRateLimiter(sessions)
    writes, count = _count_takes(sessions)
    event.listen(sessions.kw["bind"], "before_cursor_execute", count)
    try:
        assert limiter.take("ip:203.0.113.9", 6_000) == 0.0  # a lease of 100: this one and 99 held
        assert all(limiter.take_now("ip:203.0.113.9", 6_000) for _ in range(75)), "24 left: renewed ahead"
        limiter._ahead.submit(lambda: None).result()  # the renewal has run
        assert all(limiter.take_now("ip:203.0.113.9", 6_000) for _ in range(124))
    finally:
        event.remove(sessions.kw["bind"], "before_cursor_execute", count)
    assert writes[0] >= 2


def test_threads_that_find_no_lease_wait_for_one_taken_rather_than_each_take_one(
    sessions: sessionmaker[Session],
) -> None:
    """Eight requests at once with no lease held (a slow database): one statement takes a lease and the others
    spend from it; each taking its own reserved eight leases of the shared allowance and queued eight writes."""
    import threading

    from sqlalchemy import event

    limiter = SharedRateLimiter(sessions)
    writes, count = _count_takes(sessions, delay=0.3)
    start = threading.Barrier(8)
    results: list[float] = []

    def request() -> None:
        start.wait()
        results.append(limiter.take("ip:203.0.113.9", 6_000))

    event.listen(sessions.kw["bind"], "before_cursor_execute", count)
    try:
        threads = [threading.Thread(target=request) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        event.remove(sessions.kw["bind"], "before_cursor_execute", count)
    assert results == [0.0] * 8 and writes[0] == 1, f"{writes[0]} statements for one lease's worth"
