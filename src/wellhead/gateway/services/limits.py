"""Rate limits shared by every API replica, kept in the database (GCRA: one row and one statement per request).

Each key has a theoretical arrival time `tat`. A request at `now` is allowed when
`max(tat, now) + 60 / rate - now <= 60`, which lets a client spend its whole minute's allowance in one burst
and then one request every `60 / rate` seconds, the same as a token bucket holding `rate` tokens. The check
and the update are one `INSERT .. ON CONFLICT DO UPDATE .. WHERE .. RETURNING`, atomic on PostgreSQL and SQLite
alike, so two replicas never both spend the last token. Rows whose `tat` has passed are deleted by retention.

On SQLite (one machine, one process) the same rule runs in memory (`LocalRateLimiter`): a write per request
would serialize every reader behind SQLite's single writer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

WINDOW = 60.0  # seconds: the allowance is per minute

_TAKE = """
INSERT INTO rate_limits (key, tat) VALUES (:key, :now + :interval)
ON CONFLICT (key) DO UPDATE SET tat = {greatest}(rate_limits.tat, :now) + :interval
WHERE {greatest}(rate_limits.tat, :now) + :interval - :now <= :window
RETURNING tat
"""


class RateLimiter(Protocol):
    def take(self, key: str, rate_per_minute: int) -> float:
        """Spends one request of `key`'s allowance: 0 when allowed, else the seconds until one is allowed."""
        ...


def limiter_for(sessions: sessionmaker[Session]) -> RateLimiter:
    bind = sessions.kw.get("bind")
    if bind is not None and bind.dialect.name == "postgresql":
        return SharedRateLimiter(sessions)
    return LocalRateLimiter()


class LocalRateLimiter:
    """The same rule in this process's memory."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self.clock = clock

    def take(self, key: str, rate_per_minute: int) -> float:
        now = self.clock()
        interval = WINDOW / rate_per_minute
        with self._lock:
            tat = max(self._tat.get(key, now), now) + interval
            if tat - now <= WINDOW:
                self._tat[key] = tat
                return 0.0
        return tat - now - WINDOW


class SharedRateLimiter:
    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], float] = time.time) -> None:
        self.sessions = sessions
        self.clock = clock
        bind = sessions.kw.get("bind")
        greatest = "GREATEST" if bind is not None and bind.dialect.name == "postgresql" else "MAX"
        self._take = text(_TAKE.format(greatest=greatest))

    def take(self, key: str, rate_per_minute: int) -> float:
        """Spends one request of `key`'s allowance: 0 when allowed, else the seconds until one is allowed."""
        now = self.clock()
        interval = WINDOW / rate_per_minute
        with self.sessions.begin() as s:
            params = {"key": key[:96], "now": now, "interval": interval, "window": WINDOW}
            if s.execute(self._take, params).first() is not None:
                return 0.0
            tat = s.execute(text("SELECT tat FROM rate_limits WHERE key = :key"), {"key": key[:96]}).scalar_one()
        return max(0.0, max(float(tat), now) + interval - now - WINDOW)
