"""What the API's routes share: the database, the node, credentials, and the request dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from wellhead.chain.deployment import Deployment
from wellhead.core.units import use_stablecoin_decimals
from wellhead.gateway.auth import Auth, Principal
from wellhead.gateway.cache import FragmentCache, ResponseCache
from wellhead.gateway.problems import Problem
from wellhead.gateway.writes import Writes


@dataclass
class Services:
    sessions: sessionmaker[Session]
    w3: Web3
    deployment: Deployment
    auth: Auth
    writes: Writes
    evidence_dirs: tuple[Path, ...] = field(default_factory=tuple)
    responses: ResponseCache = field(default_factory=ResponseCache)
    fragments: FragmentCache = field(default_factory=FragmentCache)
    worker_threads: int = 4
    webhook_private_hosts: bool = False  # only for tests and private deployments: allows SSRF otherwise

    @classmethod
    def build(
        cls,
        sessions: sessionmaker[Session],
        w3: Web3,
        deployment: Deployment,
        *,
        domain: str,
        confirmations: int = 2,
        session_ttl: int = 86_400,
        session_rate: int = 600,
        key_rate: int = 600,
        evidence_dirs: tuple[Path, ...] = (),
        worker_threads: int = 4,
        webhook_private_hosts: bool = False,
    ) -> Services:
        auth = Auth(domain, deployment.chain_id, session_ttl, session_rate, key_rate)
        writes = Writes(w3, deployment, confirmations)
        # every stablecoin amount the gateway shows or parses is in the deployment's token's decimals
        use_stablecoin_decimals(int(writes.coin.functions.decimals().call()))
        return cls(
            sessions,
            w3,
            deployment,
            auth,
            writes,
            evidence_dirs,
            worker_threads=worker_threads,
            webhook_private_hosts=webhook_private_hosts,
        )


def services(request: Request) -> Services:
    result: Services = request.app.state.services
    return result


async def _session(request: Request) -> AsyncIterator[Session]:
    """One session per request. Async on purpose: its clean-up (returning the connection) then runs on the
    event loop; as a sync generator it needs a worker thread, and under load all threads can be waiting
    for connections that only that clean-up would return (a deadlock seen in the benchmark)."""
    with services(request).sessions() as s:
        yield s


S = Annotated[Session, Depends(_session)]
Svc = Annotated[Services, Depends(services)]


def _caller(
    request: Request,
    s: S,
    authorization: Annotated[str | None, Header(description="Bearer <session token>")] = None,
    x_api_key: Annotated[str | None, Header(description="an API key (wh_...)")] = None,
) -> Principal | None:
    return services(request).auth.identify(s, authorization, x_api_key)


def _required(caller: Annotated[Principal | None, Depends(_caller)]) -> Principal:
    if caller is None:
        raise Problem(401, "authentication_required", "sign in with Ethereum or send an API key", "Authorization")
    return caller


Caller = Annotated[Principal | None, Depends(_caller)]
Signed = Annotated[Principal, Depends(_required)]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="required on every POST; retries replay the answer")
]
