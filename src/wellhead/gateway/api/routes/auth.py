"""Sign-in with Ethereum (a nonce, then a session for the signed message) and API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import Field
from sqlalchemy import select

from wellhead.gateway import db
from wellhead.gateway.deps import IdempotencyKey, S, SessionOnly, Svc, client_address, once
from wellhead.gateway.problems import Problem
from wellhead.gateway.proxies import bucket_of
from wellhead.gateway.schemas.accounts import (
    ApiKeyIn,
    ApiKeyList,
    ApiKeyOut,
    NonceOut,
    SessionInfo,
    SessionList,
    SessionOut,
    SignInIn,
)

router = APIRouter(tags=["auth"])


@router.get("/auth/nonce", operation_id="getSignInNonce", response_model=NonceOut)
def get_nonce(s: S, svc: Svc, request: Request) -> NonceOut:
    svc.auth.limit(f"nonce:{bucket_of(client_address(request))}", svc.auth.nonce_rate, "sign-in nonces")
    return NonceOut(nonce=svc.auth.issue_nonce(s), domain=svc.auth.domain, chain_id=svc.auth.chain_id)


@router.post("/auth/sessions", operation_id="signIn", response_model=SessionOut, status_code=201)
def sign_in(s: S, svc: Svc, body: SignInIn) -> SessionOut:
    """Exchanges a signed Sign-In with Ethereum message for a bearer token. The message's single-use nonce
    makes this idempotent by itself, so it takes no Idempotency-Key (and no token is ever stored in clear)."""
    done = svc.auth.sign_in(s, body.message, body.signature)
    return SessionOut(
        token=done.token,
        address=done.address,
        expires_at=done.expires_at,
        request_id=done.request_id,
        resources=done.resources,
    )


@router.delete("/auth/session", operation_id="signOut", status_code=204)
def sign_out(s: S, svc: Svc, caller: SessionOnly) -> Response:
    """Ends the session the request is made with: its token is refused from now on, by every replica."""
    svc.auth.end_session(s, caller.address, caller.session_hash or "")
    return Response(status_code=204)


@router.get("/auth/sessions", operation_id="listSessions", response_model=SessionList)
def list_sessions(s: S, svc: Svc, caller: SessionOnly) -> SessionList:
    """The caller's address's live sessions, newest first (at most 20: a sign-in past that ends the oldest)."""
    return SessionList(
        items=[
            SessionInfo(
                id=row.token_hash[:16],
                created_at=row.created_at,
                expires_at=row.expires_at,
                current=row.token_hash == caller.session_hash,
            )
            for row in svc.auth.sessions_of(s, caller.address)
        ]
    )


@router.delete("/auth/sessions/{session_id}", operation_id="revokeSession", status_code=204)
def revoke_session(
    s: S, svc: Svc, caller: SessionOnly, session_id: Annotated[str, Path(pattern="^[0-9a-f]{16}$")]
) -> Response:
    """Ends one of the address's sessions (a lost laptop's, say), on every replica at once."""
    svc.auth.end_session(s, caller.address, session_id)
    return Response(status_code=204)


def _key_out(row: db.ApiKey, key: str | None = None) -> ApiKeyOut:
    return ApiKeyOut.model_validate(row).model_copy(update={"key": key})


@router.post("/api-keys", operation_id="createApiKey", response_model=ApiKeyOut, status_code=201)
def create_key(
    request: Request, s: S, svc: Svc, caller: SessionOnly, body: ApiKeyIn, key: IdempotencyKey = None
) -> Any:
    def run() -> ApiKeyOut:
        row, secret = svc.auth.create_key(s, caller.address, body.name, body.rate_per_minute)
        return _key_out(row, secret)

    # the key is never stored in clear, so a replayed answer has `key: null` (list the keys to see the new one)
    return once(request, s, caller, key, body, run, 201, secret_fields=("key",))


@router.get("/api-keys", operation_id="listApiKeys", response_model=ApiKeyList)
def list_keys(s: S, caller: SessionOnly) -> ApiKeyList:
    rows = s.scalars(select(db.ApiKey).where(db.ApiKey.owner == caller.address).order_by(db.ApiKey.id))
    return ApiKeyList(items=[_key_out(r) for r in rows])


@router.delete("/api-keys/{key_id}", operation_id="revokeApiKey", status_code=204)
def revoke_key(s: S, caller: SessionOnly, key_id: Annotated[int, Field(ge=1, le=2**63 - 1)]) -> Response:
    row = s.get(db.ApiKey, key_id)
    if row is None or row.owner != caller.address:  # another owner's key is not there, as far as you know
        raise Problem(404, "api_key_not_found", f"no API key {key_id} of yours", "key_id")
    row.revoked = True
    s.commit()
    return Response(status_code=204)
