"""Pages of an asset's epoch history, assembled from rendered JSON fragments (`epochs.py`).

A settled epoch changes only when settled history is revised (a reorg, a proven equivocation: the revision is
in the fragments' key), so each is rendered once per revision and replica. A page is served two ways:
- `from_memory`, on the event loop with no database and no worker thread: when the index version is pushed,
  the asset's terms and settled span are known, the page lies inside that span and every fragment is cached;
- `from_index` otherwise, on a worker thread: what memory lacks is read (two queries for missing fragments)
  and cached for the next request.
Both give the same bytes and the same ETag: the page's tag is a digest of its fragments' tags (each hashed once,
when rendered), never of the page's body on each request.

A full page of settled epochs (one with a next page) may be kept a minute by any cache (`SETTLED`); any other
page is revalidated by its ETag."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from wellhead.gateway import db
from wellhead.gateway.api.paging import encode_cursor
from wellhead.gateway.queries.cache import REVALIDATE, SETTLED, Cached, cached, conditional
from wellhead.gateway.queries.epochs import AssetTerms, epoch_json
from wellhead.gateway.queries.history import Bounds, PageRequest, page_keys

if TYPE_CHECKING:
    from wellhead.gateway.services import Services


def from_memory(request: Request, svc: Services, asset_id: int, page: PageRequest) -> Response | None:
    """The page without the database, or None where anything it needs is not in this replica's memory."""
    version = svc.responses.versions.pushed
    if version is None:
        return None
    terms = svc.terms.peek(asset_id, version[1])
    if terms is None:
        return None
    bounds = Bounds.of(terms, page)
    if not bounds.inside(svc.spans.peek(asset_id, version[1])):
        return None
    epochs = range(bounds.lo, bounds.lo + bounds.limit)
    fragments = svc.fragments.lru.get_many([(asset_id, epoch, version[1]) for epoch in epochs])
    if any(f is None for f in fragments):
        return None
    return _page(request, fragments, encode_cursor([epochs[-1]]), settled=True)  # type: ignore[arg-type]


def from_index(request: Request, s: Session, svc: Services, asset_id: int, page: PageRequest) -> Response:
    """The page read from the index where memory lacks it (terms, span, fragments), cached as it goes."""
    version = svc.responses.versions.get(s)
    terms = svc.terms.get(s, asset_id, version[1])
    keys, more = page_keys(s, svc.spans, terms, version, page)
    revision = version[1]
    settled_epochs = [epoch for epoch, settled in keys if settled]
    found = svc.fragments.lru.get_many([(asset_id, epoch, revision) for epoch in settled_epochs])
    fragments = {epoch: f for epoch, f in zip(settled_epochs, found, strict=True) if f is not None}
    missing = [epoch for epoch, _ in keys if epoch not in fragments]
    if missing:
        for epoch, fragment, settled in _render(s, terms, missing):
            fragments[epoch] = fragment
            if settled:
                svc.fragments.lru.put((asset_id, epoch, revision), fragment)
    next_cursor = encode_cursor([keys[-1][0]]) if more else None
    settled_page = more and all(done for _, done in keys)
    return _page(request, [fragments[epoch] for epoch, _ in keys], next_cursor, settled_page)


def _render(s: Session, terms: AssetTerms, epochs: list[int]) -> list[tuple[int, Cached, bool]]:
    """The epochs' fragments from plain rows (no ORM objects, amounts still decimal text) in two queries."""
    table, seen = db.Epoch.__table__, db.ReportObservation.__table__
    observations: dict[int, list[Any]] = {}
    for o in s.execute(
        select(seen)
        .where(seen.c.asset_id == terms.id, seen.c.epoch.in_(epochs))
        .order_by(seen.c.epoch, seen.c.observer)
    ):
        observations.setdefault(o.epoch, []).append(o)
    rows = s.execute(select(table).where(table.c.asset_id == terms.id, table.c.epoch.in_(epochs)))
    return [(row.epoch, cached(epoch_json(terms, row, observations.get(row.epoch, []))), row.settled) for row in rows]


def _page(request: Request, fragments: list[Cached], next_cursor: str | None, settled: bool) -> Response:
    cursor = json.dumps(next_cursor).encode()
    body = b'{"items":[' + b",".join([body for body, _ in fragments]) + b'],"next_cursor":' + cursor + b"}"
    tags = "".join([etag for _, etag in fragments]).encode() + cursor
    etag = '"' + hashlib.blake2b(tags, digest_size=12).hexdigest() + '"'
    return conditional(request, (body, etag), SETTLED if settled else REVALIDATE)
