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
    run = svc.fragments.run(asset_id, version[1], bounds.lo, bounds.limit)
    if run is None:
        return None
    bodies, tags = run
    return _page(request, bodies, tags, encode_cursor([bounds.lo + bounds.limit - 1]), settled=True)


def from_index(request: Request, s: Session, svc: Services, asset_id: int, page: PageRequest) -> Response:
    """The page read from the index where memory lacks it (terms, span, fragments), cached as it goes."""
    version = svc.responses.versions.get(s)
    terms = svc.terms.get(s, asset_id, version[1])
    keys, more = page_keys(s, svc.spans, terms, version, page)
    revision = version[1]
    fragments = svc.fragments.get_many(asset_id, revision, [epoch for epoch, settled in keys if settled])
    missing = [epoch for epoch, _ in keys if epoch not in fragments]
    if missing:
        for epoch, fragment, settled in _render(s, terms, missing):
            fragments[epoch] = fragment
            if settled:
                svc.fragments.put(asset_id, revision, epoch, fragment)
    next_cursor = encode_cursor([keys[-1][0]]) if more else None
    settled_page = more and all(done for _, done in keys)
    ordered = [fragments[epoch] for epoch, _ in keys]
    return _page(request, [b for b, _ in ordered], [t for _, t in ordered], next_cursor, settled_page)


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


def _page(request: Request, bodies: list[bytes], tags: list[str], next_cursor: str | None, settled: bool) -> Response:
    cursor = json.dumps(next_cursor).encode()
    body = _envelope(bodies, cursor)
    etag = '"' + hashlib.blake2b("".join(tags).encode() + cursor, digest_size=12).hexdigest() + '"'
    return conditional(request, (body, etag), SETTLED if settled else REVALIDATE)


def _envelope(bodies: list[bytes], cursor: bytes) -> bytes:
    """`{"items":[...],"next_cursor":...}` with the page's bytes copied once (each `+` of a 115 KB body copied
    it again: four copies a page)."""
    if not bodies:
        return b'{"items":[],"next_cursor":' + cursor + b"}"
    parts = list(bodies)
    parts[0] = b'{"items":[' + parts[0]
    parts[-1] = parts[-1] + b'],"next_cursor":' + cursor + b"}"
    return b",".join(parts)
