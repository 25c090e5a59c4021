"""Coordination between gateway processes sharing one PostgreSQL database, by advisory locks.

- `exclusive(engine, key)`: waits for a session lock and holds it for a block of work (the schema migration:
  three `migrate` jobs started at once run one after the other, the later ones finding nothing to do).
- `serialize(s, name)`: one transaction at a time for `name` (e.g. an address's sign-ins), until it ends.
- `Leadership`: the one active indexer. It tries the lock on a connection of its own and keeps that connection
  for as long as it leads; PostgreSQL releases the lock when the connection dies (a SIGKILLed process, a
  network partition), so a standby that keeps trying takes over within its poll interval. `still_held()`
  asks on the same connection before each pass: a leader that lost it stops writing.

On SQLite (one machine, one process) there is nothing to coordinate: both always succeed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger("wellhead.gateway")

MIGRATION_LOCK = 0x57E11_0001  # "wellhead" locks: a fixed 64-bit key per purpose
INDEXER_LOCK = 0x57E11_0002


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def serialize(s: Session, name: str) -> None:
    """Takes a transaction-level advisory lock named `name` in `s`'s transaction: another transaction taking it
    waits until this one commits or rolls back. SQLite runs one writer at a time already."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name})


@contextmanager
def exclusive(engine: Engine, key: int) -> Iterator[Connection | None]:
    """Holds the advisory lock `key` for the block (the connection holding it is yielded; None on SQLite)."""
    if not is_postgres(engine):
        yield None
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()
        try:
            yield conn
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


class Leadership:
    def __init__(self, engine: Engine, key: int = INDEXER_LOCK) -> None:
        self.engine = engine
        self.key = key
        self._conn: Connection | None = None
        self._sqlite = not is_postgres(engine)

    @property
    def leading(self) -> bool:
        return self._sqlite or self._conn is not None

    def try_acquire(self) -> bool:
        """Leads after this call if it led before or the lock was free; never waits."""
        if self._sqlite:
            return True
        if self._conn is not None:
            return self.still_held()
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
            conn.commit()
        except SQLAlchemyError:
            conn.close()
            raise
        if got:
            self._conn = conn
            log.info("indexer: leading (advisory lock taken)")
        else:
            conn.close()
        return got

    def still_held(self) -> bool:
        """Asks on the lock's own connection; a dead connection means the lock is gone."""
        if self._sqlite:
            return True
        if self._conn is None:
            return False
        try:
            held = self._conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            ).scalar()
            self._conn.commit()
        except SQLAlchemyError:
            held = 0
        if not held:
            log.warning("indexer: leadership lost (its database connection or lock is gone)")
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            with suppress(SQLAlchemyError):
                self._conn.invalidate()  # the database session ends, and its advisory lock with it
            self._conn = None
