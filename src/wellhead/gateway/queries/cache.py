"""Caches for answers that only the index determines.

The index changes only when the indexer commits a batch (`next_block` moves) or rolls back a reorg
(`rollbacks` moves), so `index_version` names a state of the whole index, and an answer rendered from the
index at one version is valid until the version moves:
- `ResponseCache` keeps whole answers (e.g. the asset list) by (path, query, version), LRU-bounded, and
  gives each an ETag, so clients can revalidate with If-None-Match and get a 304;
- `FragmentCache` keeps each settled epoch rendered as JSON: a settled epoch never changes (the contract's
  finalized epochs are immutable) unless a reorg rolls it back, so its key carries the rollback count.
Both live in the serving process; a second process keeps its own.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from wellhead.gateway import db
from wellhead.gateway.index.indexer import NEXT_BLOCK, ROLLBACKS

K = TypeVar("K")


def index_version(s: Session) -> tuple[int, int]:
    state = db.IndexerState.__table__
    q = select(state.c.key, state.c.value).where(state.c.key.in_((NEXT_BLOCK, ROLLBACKS)))
    rows = {str(k): int(v) for k, v in s.execute(q)}
    return rows.get(NEXT_BLOCK, 0), rows.get(ROLLBACKS, 0)


class Lru(Generic[K]):
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[K, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: bytes) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            self.size += len(value) - (len(old) if old else 0)
            self._items[key] = value
            while self.size > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)


class ResponseCache:
    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.lru: Lru[tuple[str, str, tuple[int, int]]] = Lru(max_bytes)

    def answer(self, request: Request, s: Session, render: Callable[[], Response]) -> Response:
        """The cached answer for this request at the index's version, rendered once per version."""
        version = index_version(s)
        key = (request.url.path, request.url.query, version)
        body = self.lru.get(key)
        if body is None:
            response = render()
            if response.status_code != 200:
                return response
            body = bytes(response.body)
            self.lru.put(key, body)
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/json", headers={"ETag": etag})


class FragmentCache:
    def __init__(self, max_bytes: int = 128 << 20) -> None:
        self.lru: Lru[tuple[Any, ...]] = Lru(max_bytes)
