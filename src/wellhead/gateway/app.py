"""The gateway's REST API: assets, their epoch history, leases, NAV rounds and credit from the index; sign-in,
API keys and webhooks; transactions prepared for the client to sign and relayed once signed.

Every list is cursor-paginated (`cursor` from the previous page's `next_cursor`, `limit` up to 500) and
time-filtered where it has a time (`from`/`to`, unix seconds). Amounts are strings of base units plus a
decimal rendering. Every error is an RFC 9457 problem (`application/problem+json`) with a stable `code`.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from wellhead.gateway import openapi
from wellhead.gateway.api import api_router
from wellhead.gateway.api.routes import operations
from wellhead.gateway.dashboard import mount_dashboard
from wellhead.gateway.hot_reads import HotReads
from wellhead.gateway.limits_asgi import BodyLimits, SecurityHeaders
from wellhead.gateway.problems import PROBLEM, Problem, ProblemBody, problem_response
from wellhead.gateway.services import Services

log = logging.getLogger("wellhead.gateway")


ERRORS = (400, 401, 403, 404, 408, 409, 413, 422, 429, 503)  # what any operation may answer, as problems


def settle_heap() -> None:
    """Puts what start-up built (modules, web3, pydantic's schemas, the app) beyond the garbage collector's full
    collections, which then scan only what serving creates: they were 50-300 ms pauses of a replica (the p99 of
    the epoch history), most of it spent re-checking objects that live as long as the process. Called once, by
    a server process, just before it serves."""
    gc.collect()
    gc.freeze()


def create_app(services: Services, api: bool = True) -> FastAPI:
    """The API (`api=False`: only the operations endpoints, for the indexer and webhook roles)."""
    problems: dict[int | str, dict[str, Any]] = {c: {"model": ProblemBody, "content": {PROBLEM: {}}} for c in ERRORS}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Few worker threads: the endpoints are short and CPU-bound under the GIL, and 40 threads (Starlette's
        # default) contending for it served a third of what 4 do at 64 connections (make bench-gateway).
        anyio.to_thread.current_default_thread_limiter().total_tokens = services.worker_threads
        yield

    app = FastAPI(
        title="Wellhead gateway",
        version="1",
        description=__doc__,
        responses=problems,
        lifespan=lifespan,
        docs_url=None,  # served by `openapi.install` from local assets
        redoc_url=None,
        servers=[{"url": "/", "description": "this gateway"}],
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
    )
    app.state.services = services

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.detail, exc.field, exc.retry_after)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return problem_response(422, "invalid_parameter", f"{field or 'request'}: {first.get('msg')}", field)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 408: "request_timeout", 413: "body_too_large"}
        code = codes.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path (Starlette names only the first route's)
            allow = openapi.allowed_methods(request.app, request.url.path)
            if allow is not None:
                headers["Allow"] = allow
        return problem_response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return problem_response(503, "unavailable", "the gateway could not answer; try again")

    if api:
        app.add_middleware(HotReads, services=services)  # innermost: its answers get the headers below
    app.add_middleware(BodyLimits, max_bytes=services.max_body_bytes, timeout=services.body_timeout)
    app.add_middleware(SecurityHeaders)
    app.include_router(operations.router)
    if api:
        app.include_router(api_router)
        mount_dashboard(app)
        openapi.install(app)
    return app
