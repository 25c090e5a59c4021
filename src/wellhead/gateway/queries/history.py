"""Which epochs a page of an asset's history holds, from memory where the index allows it.

Settlement runs strictly in order on chain, so an asset's settled epochs are one unbroken span. Each replica
keeps every asset's span by revision of settled history (a query when a page falls past it): a page that lies
wholly inside it, with a settled epoch after it, is known without the database; with its fragments cached too
(`epoch_pages.py`), it is served with no database round trip and no worker thread. Any other page asks the
database."""

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


@dataclass(frozen=True)
class Known:
    span: Span | None  # None: the settled epochs are not one span (yet), or there are none
    read_at: tuple[int, int]  # the index version it was read at


class SpanCache:
    """Each asset's settled span by revision of settled history. Within one revision settled epochs stay
    settled, so a span read at an older version still holds: a page inside it is known without asking again;
    only a page past it asks, and reads the span anew if the index has moved since."""

    MAX_ENTRIES = 100_000

    def __init__(self) -> None:
        self._known: dict[tuple[int, int], Known] = {}
        self._lock = threading.Lock()

    def peek(self, asset_id: int, revision: int) -> Span | None:
        known = self._known.get((asset_id, revision))
        return known.span if known is not None else None

    def get(self, s: Session, asset_id: int, version: tuple[int, int], page: Bounds) -> Span | None:
        """The span, read again only when `page` lies past the one known and the index moved since."""
        known = self._known.get((asset_id, version[1]))
        if known is not None and (known.read_at == version or page.inside(known.span)):
            return known.span
        e = db.Epoch
        first, last, count = s.execute(
            select(func.min(e.epoch), func.max(e.epoch), func.count()).where(e.asset_id == asset_id, e.settled)
        ).one()
        span = Span(int(first), int(last)) if count and int(last) - int(first) + 1 == count else None
        with self._lock:
            if len(self._known) >= self.MAX_ENTRIES:
                self._known.clear()
            self._known[(asset_id, version[1])] = Known(span, version)
        return span


@dataclass(frozen=True)
class Bounds:
    """The epochs a page may hold: from `lo`, at most `limit`, before `hi` (None: no end)."""

    lo: int
    limit: int
    hi: int | None

    @classmethod
    def of(cls, terms: AssetTerms, page: PageRequest) -> Bounds:
        lo = 0 if page.after is None else page.after + 1
        if page.starts_from is not None:
            lo = max(lo, (page.starts_from - terms.genesis) // terms.epoch_length)
        hi = None
        if page.starts_before is not None:
            hi = max(0, -(-(page.starts_before - terms.genesis) // terms.epoch_length))
        return cls(lo, page.limit, hi)

    def inside(self, span: Span | None) -> bool:
        """Whether the page is `limit` settled epochs from `lo` with a settled epoch after it (so another page
        follows), short of `hi`: all of it known from the span alone."""
        end = self.lo + self.limit  # the epoch after a full page
        return span is not None and span.first <= self.lo and end <= span.last and (self.hi is None or end < self.hi)


def page_keys(
    s: Session, spans: SpanCache, terms: AssetTerms, version: tuple[int, int], page: PageRequest
) -> tuple[list[tuple[int, bool]], bool]:
    """The page's (epoch, settled) pairs in order, and whether another page follows."""
    bounds = Bounds.of(terms, page)
    if bounds.inside(spans.get(s, terms.id, version, bounds)):
        return [(epoch, True) for epoch in range(bounds.lo, bounds.lo + bounds.limit)], True
    q = select(db.Epoch.epoch, db.Epoch.settled).where(db.Epoch.asset_id == terms.id, db.Epoch.epoch >= bounds.lo)
    if bounds.hi is not None:
        q = q.where(db.Epoch.epoch < bounds.hi)
    keys = [(int(e), bool(settled)) for e, settled in s.execute(q.order_by(db.Epoch.epoch).limit(page.limit + 1))]
    return keys[: page.limit], len(keys) > page.limit
