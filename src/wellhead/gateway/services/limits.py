"""Rate limits shared by every API replica, kept in the database (GCRA: one row and one statement per request).

Each key has a theoretical arrival time `tat`. A request at `now` is allowed when
`max(tat, now) + 60 / rate - now <= 60`, which lets a client spend its whole minute's allowance in one burst
and then one request every `60 / rate` seconds, the same as a token bucket holding `rate` tokens. The check
and the update are one `INSERT .. ON CONFLICT DO UPDATE .. WHERE .. RETURNING`, atomic on PostgreSQL and SQLite
alike, so two replicas never both spend the last token. Rows whose `tat` has passed are deleted by retention.

A key whose rate is high leases a second's allowance at once (at most MAX_LEASE requests, taken from the
shared allowance in one statement) and spends it in this process for up to LEASE_SECONDS: a replica under load
writes once per lease, not once per request; a lease running low (a quarter left) is renewed ahead on a thread
of its own, and requests that find none wait for a renewal under way rather than each take one. Nothing is
ever allowed beyond the shared allowance; what a lease leaves unspent lapses (at most two seconds' allowance per
replica). Below 120 a minute a lease is one request:
the rule holds exactly. The table is UNLOGGED and its writes commit without waiting for the disk (revision
0008): limits lost in a crash cost nothing worth an fsync per request.

On SQLite (one machine, one process) the same rule runs in memory (`LocalRateLimiter`): a write per request
would serialize every reader behind SQLite's single writer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

WINDOW = 60.0  # seconds: the allowance is per minute
MAX_LEASE = 100  # requests one statement may take for this process
LEASE_SECONDS = 1.0  # how long a leased allowance may be spent
MAX_LEASES_HELD = 10_000  # leases held before lapsed ones are dropped

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

    def take_now(self, key: str, rate_per_minute: int) -> bool:
        """Spends one request of `key`'s allowance if that needs no database (an allowance this process holds
        already, or a limiter in memory), without waiting on anything: True if it did. False: ask `take`."""
        ...


def limiter_for(sessions: sessionmaker[Session]) -> RateLimiter:
    bind = sessions.kw.get("bind")
    if bind is not None and bind.dialect.name == "postgresql":
        return SharedRateLimiter(sessions)
    return LocalRateLimiter()


class LocalRateLimiter:
    """The same rule in this process's memory."""

    def take_now(self, key: str, rate_per_minute: int) -> bool:
        return self.take(key, rate_per_minute) == 0.0  # a dictionary update: never waits

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
        self._postgres = bind is not None and bind.dialect.name == "postgresql"
        self._take = text(_TAKE.format(greatest="GREATEST" if self._postgres else "MAX"))
        self._leases: dict[str, tuple[int, float]] = {}  # key: (requests left, spendable until)
        self._lock = threading.Lock()
        self._refilling: dict[str, threading.Event] = {}  # keys whose next lease is being taken
        self._ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rate-lease")

    def take_now(self, key: str, rate_per_minute: int) -> bool:
        """Spends from the lease held; one running low is renewed on a thread of its own before it runs out,
        so a busy client's requests do not queue for the database each time a lease ends."""
        left = self._spend_held(key)
        if left is None:
            return False
        if left < _lease_size(rate_per_minute) // 4:
            self._renew_ahead(key, rate_per_minute)
        return True

    def take_held(self, key: str) -> bool:
        return self._spend_held(key) is not None

    def take(self, key: str, rate_per_minute: int) -> float:
        """Spends one request of `key`'s allowance: 0 when allowed, else the seconds until one is allowed. One
        thread at a time takes a key's next lease; the others wait for it rather than each take one more."""
        if self.take_held(key):
            return 0.0
        with self._lock:
            under_way = self._refilling.get(key)
            if under_way is None:
                self._refilling[key] = threading.Event()
        if under_way is not None:
            if under_way.wait(LEASE_SECONDS) and self.take_held(key):
                return 0.0
            return self._take_lease(key, rate_per_minute, spend=True)  # that lease was refused or spent
        try:
            return self._take_lease(key, rate_per_minute, spend=True)
        finally:
            self._done(key)

    def _spend_held(self, key: str) -> int | None:
        """Spends one request of the lease held for `key`: how many are left after it, None if none was."""
        now = self.clock()
        with self._lock:
            left, until = self._leases.get(key, (0, 0.0))
            if left > 0 and now < until:
                self._leases[key] = (left - 1, until)
                return left - 1
        return None

    def _renew_ahead(self, key: str, rate_per_minute: int) -> None:
        with self._lock:
            if key in self._refilling:
                return
            self._refilling[key] = threading.Event()
        self._ahead.submit(self._renew, key, rate_per_minute)

    def _renew(self, key: str, rate_per_minute: int) -> None:
        try:
            self._take_lease(key, rate_per_minute, spend=False)
        except Exception:  # the database is away: the next request takes its lease itself (and answers for it)
            pass
        finally:
            self._done(key)

    def _done(self, key: str) -> None:
        with self._lock:
            self._refilling.pop(key).set()

    def _take_lease(self, key: str, rate_per_minute: int, spend: bool) -> float:
        """Takes a lease from the shared allowance (a whole one; to spend one request now, else that one alone):
        0 when taken, else the seconds until a request is allowed."""
        now = self.clock()
        lease = _lease_size(rate_per_minute)
        interval = WINDOW / rate_per_minute
        with self.sessions.begin() as s:
            if self._postgres:  # a lost limit is harmless: no fsync per request
                s.execute(text("SET LOCAL synchronous_commit = off"))
            for size in dict.fromkeys((lease, 1) if spend else (lease,)):
                params = {"key": key[:96], "now": now, "interval": size * interval, "window": WINDOW}
                if s.execute(self._take, params).first() is not None:
                    held = size - 1 if spend else size
                    if held > 0:
                        self._lease(key, held, now)
                    return 0.0
            tat = s.execute(text("SELECT tat FROM rate_limits WHERE key = :key"), {"key": key[:96]}).scalar_one()
        return max(0.0, max(float(tat), now) + interval - now - WINDOW)

    def _lease(self, key: str, taken: int, now: float) -> None:
        """Adds `taken` requests to what is held for `key`, all spendable for LEASE_SECONDS from now."""
        with self._lock:
            if len(self._leases) >= MAX_LEASES_HELD:  # one per busy client: lapsed ones are dropped
                self._leases = {k: v for k, v in self._leases.items() if v[1] > now}
            left, until = self._leases.get(key, (0, 0.0))
            self._leases[key] = ((left if until > now else 0) + taken, now + LEASE_SECONDS)


def _lease_size(rate_per_minute: int) -> int:
    """A second's allowance, at most MAX_LEASE requests; a single request below 120 a minute."""
    return max(1, min(MAX_LEASE, rate_per_minute // 60))
