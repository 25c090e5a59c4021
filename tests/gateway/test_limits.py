"""The rate limit's rule, pinned at its edges, in memory (SQLite's single process) and in the database (every
replica on PostgreSQL): a minute's allowance in one burst, then one request per 60 / rate seconds."""

from __future__ import annotations

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
