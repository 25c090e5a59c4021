"""The request dependencies every route takes: the database session, the services, the caller, and the
idempotency of writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from wellhead.gateway.problems import Problem
from wellhead.gateway.proxies import bucket_of, client_of
from wellhead.gateway.services import Services
from wellhead.gateway.services.auth import Principal
from wellhead.gateway.services.idempotency import fingerprint, run_once


def services(request: Request) -> Services:
    result: Services = request.app.state.services
    return result


async def _session(request: Request) -> AsyncIterator[Session]:
    """One session per request. Async on purpose: its clean-up (returning the connection) then runs on the
    event loop; as a sync generator it needs a worker thread, and under load all threads can be waiting
    for connections that only that clean-up would return (a deadlock seen in the benchmark)."""
    with services(request).sessions() as s:
        yield s


async def _services(request: Request) -> Services:
    """`services` as a dependency: async, so that it costs no trip to the threadpool."""
    return services(request)


S = Annotated[Session, Depends(_session)]
Svc = Annotated[Services, Depends(_services)]


async def _caller(
    request: Request,
    s: S,
    authorization: Annotated[str | None, Header(description="Bearer <session token>")] = None,
    x_api_key: Annotated[str | None, Header(description="an API key (wh_...)")] = None,
) -> Principal | None:
    """The caller behind the credentials; without any, None at once (async: an anonymous read makes no trip to
    the threadpool for it); with some, looked up in the database on a worker thread."""
    if authorization is None and x_api_key is None:
        return None
    return await run_in_threadpool(services(request).auth.identify, s, authorization, x_api_key)


def client_address(request: Request) -> str:
    """The caller's address: the connection's peer, or behind a trusted proxy the client it forwards for
    (`proxies.py`); the key of anonymous rate limits and idempotency scopes."""
    peer = request.client.host if request.client is not None else "unknown"
    return client_of(peer, request.headers.getlist("x-forwarded-for"), services(request).trusted_proxies)


def anonymous_key(request: Request) -> str:
    """The shared limiter's key for an anonymous caller: its address (an IPv6 client's whole /64)."""
    return f"ip:{bucket_of(client_address(request))}"


async def limit_anonymous(request: Request, caller: Annotated[Principal | None, Depends(_caller)]) -> None:
    """Every request under /api/v1: its credentials, if it sends any, are checked and spend their own allowance
    (`_caller`, run once per request however many dependencies take it); without any, the client's address
    spends an allowance shared by every replica. A made-up credential is a 401, never a way past the limit.
    Async: an allowance this replica holds already is spent here; only a trip to the database takes a thread."""
    if caller is None:
        auth = services(request).auth
        key = anonymous_key(request)
        if not auth.limit_now(key, auth.anonymous_rate):
            await run_in_threadpool(auth.limit, key, auth.anonymous_rate)


def _required(caller: Annotated[Principal | None, Depends(_caller)]) -> Principal:
    if caller is None:
        raise Problem(401, "authentication_required", "sign in with Ethereum or send an API key", "Authorization")
    return caller


def _session_only(caller: Annotated[Principal, Depends(_required)]) -> Principal:
    if not caller.is_session:
        raise Problem(
            401,
            "session_required",
            "only a signed-in session (Authorization: Bearer) manages keys, webhooks and sessions",
        )
    return caller


Caller = Annotated[Principal | None, Depends(_caller)]
SessionOnly = Annotated[Principal, Depends(_session_only)]
Signed = Annotated[Principal, Depends(_required)]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="required on every POST; retries replay the answer")
]


def once(
    request: Request,
    s: Session,
    caller: Principal | None,
    key: str | None,
    body: BaseModel | None,
    run: Callable[[], Any],
    status: int = 200,
    secret_fields: tuple[str, ...] = (),
) -> JSONResponse:
    """Runs a write at most once per (caller, Idempotency-Key); a retry replays the stored answer."""
    # an anonymous caller's keys are scoped to its address: one anonymous client cannot replay or block another's
    scope = caller.credential if caller is not None else f"anonymous:{client_address(request)}"[:64]
    request_hash = fingerprint(request.method, request.url.path, body)
    return run_once(s, scope, key, request_hash, lambda: (status, run()), secret_fields)
