"""Caches for answers that only the index determines.

The index changes only when the indexer commits a batch (`next_block` moves) or rolls back a reorg
(`rollbacks` moves), so `index_version` names a state of the whole index, and an answer rendered from the
index at one version is valid until the version moves:
- `ResponseCache` keeps whole answers (e.g. the asset list) by (path, query, version), LRU-bounded, and
  gives each an ETag, so clients can revalidate with If-None-Match and get a 304;
- `FragmentCache` (`fragments.py`) keeps each settled epoch rendered as JSON: a settled epoch changes only when
  settled history is revised (a reorg rolls it back, or an equivocation is proven on it), so its key carries
  the revision.
Both live in the serving process; a second process keeps its own.

`IndexVersion` is how a process knows the version without asking the database on every request: the indexer
publishes each new version (PostgreSQL `NOTIFY wellhead_index` in the transaction that moves it, delivered
on commit) and every API replica listens on a connection of its own; in one process, the indexer tells it
directly. While no push is live (before the first, or while the listening connection is down) it reads the
version from the database, as before.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import psycopg
from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from wellhead.gateway import db
from wellhead.gateway.index.indexer import NEXT_BLOCK
from wellhead.gateway.index.versions import CHANNEL, ROLLBACKS

K = TypeVar("K")


def index_version(s: Session) -> tuple[int, int]:
    state = db.IndexerState.__table__
    q = select(state.c.key, state.c.value).where(state.c.key.in_((NEXT_BLOCK, ROLLBACKS)))
    rows = {str(k): int(v) for k, v in s.execute(q)}
    return rows.get(NEXT_BLOCK, 0), rows.get(ROLLBACKS, 0)


class IndexVersion:
    def __init__(self) -> None:
        self._pushed: tuple[int, int] | None = None
        self._stop = threading.Event()
        self.listening = False

    @property
    def pushed(self) -> tuple[int, int] | None:
        """The version last pushed, while a push is live; None otherwise (then only the database knows)."""
        return self._pushed

    def get(self, s: Session) -> tuple[int, int]:
        pushed = self._pushed
        return pushed if pushed is not None else index_version(s)

    def push(self, version: tuple[int, int]) -> None:
        self._pushed = version

    def listen(self, engine: Engine) -> None:
        """Follows NOTIFY on `engine` (PostgreSQL) in a daemon thread; on SQLite there is nothing to follow."""
        if engine.dialect.name != "postgresql":
            return
        threading.Thread(target=self._follow, args=(engine,), daemon=True, name="index-version").start()

    def close(self) -> None:
        self._stop.set()

    def _follow(self, engine: Engine) -> None:
        while not self._stop.is_set():
            try:
                url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                with psycopg.connect(url, autocommit=True) as raw:  # outside the pool: it only listens
                    raw.execute(f"LISTEN {CHANNEL}")
                    with Session(engine) as s:
                        self._pushed = index_version(s)  # what was missed while not listening
                    self.listening = True
                    while not self._stop.is_set():
                        for note in raw.notifies(timeout=1.0):
                            block, _, rollbacks = note.payload.partition(":")
                            self._pushed = (int(block), int(rollbacks))
            except Exception:  # the connection dropped: read from the database until listening again
                self.listening = False
                self._pushed = None
                self._stop.wait(1.0)
        self.listening = False


# A rendered answer (or a fragment of one) and its entity tag, hashed once when rendered. A plain tuple on
# purpose: the collector stops tracking a tuple of bytes and text, so a replica's hundreds of thousands of
# cached fragments add nothing to the full collections (an object per fragment made them 300 ms pauses).
Cached = tuple[bytes, str]


def cached(body: bytes) -> Cached:
    return body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


class Lru(Generic[K]):
    """Rendered answers by key, least recently used dropped first once their bodies pass `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[K, Cached] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> Cached | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: Cached) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            self.size += len(value[0]) - (len(old[0]) if old else 0)
            self._items[key] = value
            while self.size > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped[0])


class ResponseCache:
    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.lru: Lru[tuple[str, str, tuple[int, int]]] = Lru(max_bytes)
        self.versions = IndexVersion()

    def from_memory(self, request: Request) -> Response | None:
        """The cached answer at the pushed index version, without the database; None where a render is due."""
        version = self.versions.pushed
        answer = self.lru.get((request.url.path, request.url.query, version)) if version is not None else None
        return conditional(request, answer, REVALIDATE) if answer is not None else None

    def answer(self, request: Request, s: Session, render: Callable[[], Response]) -> Response:
        """The cached answer for this request at the index's version, rendered once per version."""
        version = self.versions.get(s)
        key = (request.url.path, request.url.query, version)
        answer = self.lru.get(key)
        if answer is None:
            response = render()
            if response.status_code != 200:
                return response
            answer = cached(bytes(response.body))
            self.lru.put(key, answer)
        return conditional(request, answer, REVALIDATE)


REVALIDATE = "no-cache"  # a cache may keep it, and asks (If-None-Match) before each use
# settled history, kept a minute by any cache (a CDN absorbs all but one revalidation a minute per page). Not
# `immutable`: a proven equivocation amends a settled epoch's attestation at any time (proofs have no
# deadline), and a reorg deeper than the confirmation depth rolls settled epochs back
SETTLED = "public, max-age=60"


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison: `*`, or any listed tag equal once `W/` is dropped."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def conditional(request: Request, answer: Cached, cache_control: str) -> Response:
    """The JSON answer with its ETag and `cache_control`, or a 304 when the client holds it already."""
    body, etag = answer
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if _matches(",".join(request.headers.getlist("if-none-match")), etag):  # several lines: one list
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
