"""Which epochs a page of an asset's history holds, from memory where the index allows it.

Settlement runs strictly in order on chain, so an asset's settled epochs are one unbroken span. Each replica
keeps every asset's span by index version (one query per asset per version): a page that lies wholly inside
it, with a settled epoch after it, is known without the database; with its fragments cached too
(`epochs.py`), it is served with no database round trip at all. Any other page asks the database."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wellhead.gateway import db
from wellhead.gateway.queries.epochs import AssetTerms


@dataclass(frozen=True)
class Span:
    first: int
    last: int  # both settled, and every epoch between


@dataclass(frozen=True)
class PageRequest:
    after: int | None  # the cursor's epoch
    starts_from: int | None  # `from` (a time)
    starts_before: int | None  # `to` (a time)
    limit: int


class SpanCache:
    MAX_ENTRIES = 100_000

    def __init__(self) -> None:
        self._spans: dict[tuple[int, tuple[int, int]], Span | None] = {}
        self._lock = threading.Lock()

    def get(self, s: Session, asset_id: int, version: tuple[int, int]) -> Span | None:
        key = (asset_id, version)
        if key in self._spans:
            return self._spans[key]
        e = db.Epoch
        first, last, count = s.execute(
            select(func.min(e.epoch), func.max(e.epoch), func.count()).where(e.asset_id == asset_id, e.settled)
        ).one()
        span = Span(int(first), int(last)) if count and int(last) - int(first) + 1 == count else None
        with self._lock:
            if len(self._spans) >= self.MAX_ENTRIES:
                self._spans.clear()
            self._spans[key] = span
        return span


def page_keys(
    s: Session, spans: SpanCache, terms: AssetTerms, version: tuple[int, int], page: PageRequest
) -> tuple[list[tuple[int, bool]], bool]:
    """The page's (epoch, settled) pairs in order, and whether another page follows."""
    lo = 0 if page.after is None else page.after + 1
    if page.starts_from is not None:
        lo = max(lo, (page.starts_from - terms.genesis) // terms.epoch_length)
    hi = None  # epochs before this one
    if page.starts_before is not None:
        hi = max(0, -(-(page.starts_before - terms.genesis) // terms.epoch_length))
    span = spans.get(s, terms.id, version)
    end = lo + page.limit  # the epoch after a full page
    if span is not None and span.first <= lo and end <= span.last and (hi is None or end < hi):
        return [(epoch, True) for epoch in range(lo, end)], True
    q = select(db.Epoch.epoch, db.Epoch.settled).where(db.Epoch.asset_id == terms.id, db.Epoch.epoch >= lo)
    if hi is not None:
        q = q.where(db.Epoch.epoch < hi)
    keys = [(int(e), bool(settled)) for e, settled in s.execute(q.order_by(db.Epoch.epoch).limit(page.limit + 1))]
    return keys[: page.limit], len(keys) > page.limit
