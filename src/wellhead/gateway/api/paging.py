"""Cursor pagination: opaque cursors over a list's sort key, pages fetched with one row more than asked, in
one helper (`paginate`) every list uses."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Query, Response
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from wellhead.gateway.problems import Problem
from wellhead.gateway.schemas.common import Page

MAX_LIMIT = 500
MAX_CURSOR = 200  # characters: longer is no cursor this API gave out

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR, description="next_cursor of the previous page")]


def encode_cursor(key: list[int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int) -> list[int] | None:
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        key = None
    if not (isinstance(key, list) and len(key) == size and all(isinstance(k, int) and 0 <= k < 2**63 for k in key)):
        raise Problem(400, "invalid_cursor", "the cursor is not one this API gave out", "cursor")
    return key


def paginate(
    s: Session,
    query: Select[Any],
    key: InstrumentedAttribute[int],
    limit: int,
    cursor: str | None,
    render: Callable[[list[Any]], Sequence[BaseModel]],
) -> Response:
    """One page of `query`'s rows in `key` order, after `cursor`, each page rendered at once by `render` (so
    it can load what the page needs in one query), and the cursor of the next page."""
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(key > after[0])
    rows = list(s.scalars(query.order_by(key).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor([getattr(rows[-1], key.key)]) if more else None
    return json_response(Page[Any](items=list(render(rows)), next_cursor=next_cursor))


def json_response(model: BaseModel, status: int = 200) -> Response:
    """The model as JSON, serialized once here. The route's `response_model` still documents it; returning a
    Response skips FastAPI's second validation pass, which runs on a worker thread: under load every thread
    could then wait for a database connection held by a request waiting for a thread."""
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")
