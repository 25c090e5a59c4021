"""Cursor pagination: opaque cursors over a list's sort key, pages fetched with one row more than asked."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Response
from pydantic import BaseModel

from wellhead.gateway.problems import Problem

MAX_LIMIT = 500
T = TypeVar("T")
R = TypeVar("R")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


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


def page(rows: list[R], limit: int, key: Callable[[R], int], render: Callable[[R], BaseModel]) -> Response:
    """One page of `rows` (fetched with limit + 1 to know whether more follow) and the cursor after it."""
    more = len(rows) > limit
    rows = rows[:limit]
    return json_response(
        Page[Any](items=[render(r) for r in rows], next_cursor=encode_cursor([key(rows[-1])]) if more else None)
    )


def json_response(model: BaseModel, status: int = 200) -> Response:
    """The model as JSON, serialized once here. The route's `response_model` still documents it; returning a
    Response skips FastAPI's second validation pass, which runs on a worker thread: under load every thread
    could then wait for a database connection held by a request waiting for a thread."""
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")
