"""Settled epochs rendered as JSON, kept per asset and revision of settled history, so that a page is a slice.

A page of history is a run of consecutive epochs of one asset, so the fragments are shelved by (asset,
revision): a page held in memory is read with one lookup and two runs of C-level `dict.get`, not 100 keyed
lookups and LRU moves (which were a third of a hot page's CPU). Memory is bounded by the bodies' bytes:
past `max_bytes`, the least recently read shelf goes first; a single shelf larger than the bound loses its
oldest-rendered fragments instead.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from wellhead.gateway.queries.cache import Cached

Shelf = tuple[int, int]  # (asset, revision of settled history)


@dataclass
class _Fragments:
    bodies: dict[int, bytes] = field(default_factory=dict)
    tags: dict[int, str] = field(default_factory=dict)
    size: int = 0


class FragmentCache:
    def __init__(self, max_bytes: int = 256 << 20) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._shelves: OrderedDict[Shelf, _Fragments] = OrderedDict()
        self._lock = threading.Lock()

    def run(self, asset_id: int, revision: int, first: int, count: int) -> tuple[list[bytes], list[str]] | None:
        """The bodies and ETags of epochs first .. first + count - 1, or None unless every one is held."""
        epochs = range(first, first + count)
        with self._lock:
            shelf = self._shelves.get((asset_id, revision))
            if shelf is None:
                return None
            bodies = list(map(shelf.bodies.get, epochs))
            if None in bodies:
                return None
            self._shelves.move_to_end((asset_id, revision))
            return cast(list[bytes], bodies), list(map(shelf.tags.__getitem__, epochs))

    def get_many(self, asset_id: int, revision: int, epochs: Iterable[int]) -> dict[int, Cached]:
        """Each held epoch's fragment (the others are absent)."""
        with self._lock:
            shelf = self._shelves.get((asset_id, revision))
            if shelf is None:
                return {}
            self._shelves.move_to_end((asset_id, revision))
            return {e: (shelf.bodies[e], shelf.tags[e]) for e in epochs if e in shelf.bodies}

    def put(self, asset_id: int, revision: int, epoch: int, fragment: Cached) -> None:
        body, tag = fragment
        with self._lock:
            key = (asset_id, revision)
            shelf = self._shelves.get(key)
            if shelf is None:
                shelf = self._shelves[key] = _Fragments()
            self._shelves.move_to_end(key)
            old = shelf.bodies.pop(epoch, None)
            shelf.tags.pop(epoch, None)
            grown = len(body) - (len(old) if old is not None else 0)
            shelf.bodies[epoch], shelf.tags[epoch] = body, tag
            shelf.size += grown
            self.size += grown
            self._shrink()

    def _shrink(self) -> None:
        while self.size > self.max_bytes and self._shelves:
            key, shelf = next(iter(self._shelves.items()))
            if len(self._shelves) > 1:
                del self._shelves[key]
                self.size -= shelf.size
                continue
            epoch = next(iter(shelf.bodies))  # the only shelf: its oldest-rendered fragment
            dropped = len(shelf.bodies.pop(epoch))
            del shelf.tags[epoch]
            shelf.size -= dropped
            self.size -= dropped
            if not shelf.bodies:
                del self._shelves[key]
