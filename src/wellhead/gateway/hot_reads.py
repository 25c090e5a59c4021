"""The hottest anonymous reads answered from this replica's memory before routing (ASGI middleware).

FastAPI's routing, parameter parsing and dependency resolution cost a request more than serving a page held in
memory does (profiled: half of an epoch page's time went to resolving its dependencies). So an anonymous GET of
an asset's epoch history or of the asset list is first tried here, on the event loop:
- only requests the route would accept as they are: no credentials (a request with any goes to the route,
  which checks them), and for the history only the route's own parameters, each once and well-formed (the
  asset list is cached by its query string, so any query in its cache was accepted by the route already);
- only answers the replica holds at the pushed index version (`epoch_pages.from_memory`,
  `ResponseCache.from_memory`), with the same bytes and ETag the route gives;
- only within the client's anonymous allowance where spending it needs no database (an allowance this replica
  holds already, or the in-memory limiter of a single machine), spent here as the route's dependency would;
  otherwise the route asks the shared limiter (and answers its 429).
Anything else, and every error, is the route's: this layer answers nothing the route would not.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl

from fastapi import Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from wellhead.gateway.api.paging import MAX_CURSOR, MAX_LIMIT, decode_cursor
from wellhead.gateway.deps import anonymous_key
from wellhead.gateway.problems import Problem
from wellhead.gateway.queries.epoch_pages import from_memory
from wellhead.gateway.queries.history import PageRequest
from wellhead.gateway.schemas.common import INT64_MAX
from wellhead.gateway.services import Services

ASSETS = "/api/v1/assets"
EPOCHS = re.compile(r"/api/v1/assets/([1-9][0-9]{0,18})/epochs")
NUMBER = re.compile(r"[0-9]{1,19}")
MAX_QUERY = 81 + MAX_CURSOR  # the longest well-formed query: limit, from and to of 19 digits each, a full cursor


class HotReads:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(ASSETS):
            response = self._from_memory(Request(scope))
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _from_memory(self, request: Request) -> Response | None:
        headers = request.headers
        if "authorization" in headers or "x-api-key" in headers:
            return None
        path = request.scope["path"]
        if path == ASSETS:
            response = self.services.responses.from_memory(request)
        else:
            match = EPOCHS.fullmatch(path)
            page = history_page(request.scope["query_string"]) if match else None
            if match is None or page is None or int(match[1]) > INT64_MAX:
                return None
            response = from_memory(request, self.services, int(match[1]), page)
        auth = self.services.auth
        if response is None or not auth.limit_now(anonymous_key(request), auth.anonymous_rate):
            return None
        return response


def history_page(query: bytes) -> PageRequest | None:
    """The page a history query asks for, or None unless every parameter is the route's, once, well-formed.
    Remembered (a PageRequest is immutable): the same few cursors recur across every asset's pages. A query
    longer than any well-formed one is left to the route, never remembered (16,384 long keys would be memory)."""
    return _history_page(query) if len(query) <= MAX_QUERY else None


@lru_cache(maxsize=16_384)
def _history_page(query: bytes) -> PageRequest | None:
    try:
        pairs = parse_qsl(query.decode("ascii"), keep_blank_values=True, strict_parsing=bool(query))
    except (UnicodeDecodeError, ValueError):
        return None
    params = dict(pairs)
    if len(params) != len(pairs) or not params.keys() <= {"limit", "cursor", "from", "to"}:
        return None
    numbers = {k: params[k] for k in ("limit", "from", "to") if k in params}
    if not all(NUMBER.fullmatch(v) and int(v) <= INT64_MAX for v in numbers.values()):
        return None
    limit = int(numbers.get("limit", "100"))
    cursor = params.get("cursor")
    if not 1 <= limit <= MAX_LIMIT or (cursor is not None and len(cursor) > MAX_CURSOR):
        return None
    try:
        after = decode_cursor(cursor, 1)
    except Problem:
        return None
    starts_from, before = (int(numbers[k]) if k in numbers else None for k in ("from", "to"))
    return PageRequest(after[0] if after else None, starts_from, before, limit)
