"""Who is calling: Sign-In with Ethereum sessions, API keys, and a rate limit per credential.

- `GET /auth/nonce` hands out a single-use nonce; `POST /auth/sessions` takes an EIP-4361 message with that
  nonce, for this gateway's domain and chain, signed by the address it names (checked by the `siwe`
  library), and answers a bearer token. Only the token's SHA-256 is stored.
- A session (only a session) creates API keys (`wh_…`, shown once, stored as SHA-256) for integrators'
  servers, and lists and ends its address's sessions: at most MAX_SESSIONS live, the oldest ended first.
- Each credential has an allowance of `rate_per_minute` requests a minute, bursts up to that many, kept in
  the database (`services/limits.py`), so every replica spends the same allowance.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from siwe import SiweMessage, generate_nonce
from siwe.siwe import (
    DomainMismatch,
    ExpiredMessage,
    InvalidSignature,
    MalformedSession,
    NonceMismatch,
    NotYetValidMessage,
    SchemeMismatch,
    VerificationError,
)
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from web3 import Web3

from wellhead.gateway import db
from wellhead.gateway.db.coordination import serialize
from wellhead.gateway.problems import Problem
from wellhead.gateway.services.limits import RateLimiter

NONCE_TTL = 600  # seconds a nonce may wait for its message
MAX_KEYS = 20  # live API keys per address
MAX_SESSIONS = 20  # live sessions per address: a new sign-in past this ends the oldest
CLOCK_SKEW = 60  # seconds a message's Issued At may be ahead of this server's clock
SIWE_HEADER = " wants you to sign in with your Ethereum account:"
SIWE_FIELDS = ("URI: ", "Version: ", "Chain ID: ", "Nonce: ", "Issued At: ")


@dataclass(frozen=True)
class SignedIn:
    token: str
    address: str
    expires_at: int
    request_id: str | None
    resources: list[str]


def malformed_reason(message: str, exc: BaseException) -> str:
    """One reason a message is not EIP-4361, for a person: the first part missing or wrong, in the message's
    order (the parser's own error is an empty ValueError or a pydantic dump)."""
    lines = message.split("\n")
    if not lines[0].endswith(SIWE_HEADER):
        return f"the first line must end with '{SIWE_HEADER.strip()}'"
    if len(lines) < 2 or not Web3.is_address(lines[1].strip()):
        return "the second line must be the signing address (0x and 40 hex digits)"
    for field in SIWE_FIELDS:
        if not any(line.startswith(field) for line in lines):
            return f"the '{field.strip()}' line is missing"
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first.get('loc', ())) or 'message'}: {first.get('msg')}"
    return str(exc) or "a line does not follow the EIP-4361 grammar (its order, spacing or values)"


API_KEY_PREFIX = "wh_"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the address behind the session or the key, and the credential's id."""

    address: str
    credential: str  # "session:<hash prefix>" or "key:<id>", the scope of idempotency keys and rate limits
    rate_per_minute: int
    session_hash: str | None = None  # the session token's SHA-256, for a session

    @property
    def is_session(self) -> bool:
        return self.session_hash is not None


class Auth:
    def __init__(self, domain: str, chain_id: int, session_ttl: int, session_rate: int, key_rate: int) -> None:
        self.domain = domain
        self.chain_id = chain_id
        self.session_ttl = session_ttl
        self.session_rate = session_rate
        self.key_rate = key_rate
        self.limiter: RateLimiter | None = None  # set by Services.build: shared by every replica on PostgreSQL
        self.anonymous_rate = 600  # requests a minute per client address without credentials
        self.nonce_rate = 30  # sign-in nonces a minute per client address (each one is a row)

    # ------------------------------------------------------------ SIWE
    def issue_nonce(self, s: Session) -> str:
        nonce = str(generate_nonce())
        s.add(db.SiweNonce(nonce=nonce, issued_at=int(time.time()), used=False))
        s.commit()
        return nonce

    def sign_in(self, s: Session, message: str, signature: str) -> SignedIn:
        """Verifies a signed EIP-4361 message (the domain and the URI's origin this gateway's, issued at most
        a minute ahead of this server's clock, the nonce issued here and unused, the signature the address's)."""
        try:
            parsed = SiweMessage.from_message(message)
        except (ValueError, TypeError, MalformedSession) as exc:
            raise Problem(
                400, "siwe_malformed", f"not an EIP-4361 message: {malformed_reason(message, exc)}", "message"
            ) from None
        if parsed.chain_id != self.chain_id:
            raise Problem(
                401, "siwe_wrong_chain", f"signed for chain {parsed.chain_id}, this is {self.chain_id}", "message"
            )
        now = int(time.time())
        row = s.get(db.SiweNonce, parsed.nonce)
        if row is None or row.issued_at + NONCE_TTL < now:
            raise Problem(401, "siwe_unknown_nonce", "the nonce was not issued here or has expired", "message")
        if row.used:
            raise Problem(401, "siwe_nonce_used", "the nonce was already used: ask for a new one", "message")
        try:
            parsed.verify(signature, domain=self.domain, nonce=row.nonce, timestamp=datetime.now(UTC))
        except DomainMismatch:
            raise Problem(
                401, "siwe_wrong_domain", f"signed for {parsed.domain!r}, this is {self.domain!r}", "message"
            ) from None
        except ExpiredMessage:
            raise Problem(401, "siwe_expired", "the message's expiration time has passed", "message") from None
        except NotYetValidMessage:
            raise Problem(401, "siwe_not_yet_valid", "the message's not-before time is ahead", "message") from None
        except (InvalidSignature, NonceMismatch, SchemeMismatch, VerificationError, ValueError):
            raise Problem(
                401, "siwe_bad_signature", "the signature is not the message's address's", "signature"
            ) from None
        issued = int(datetime.fromisoformat(str(parsed.issued_at).replace("Z", "+00:00")).timestamp())
        if issued > now + CLOCK_SKEW:
            raise Problem(
                401, "siwe_issued_in_future", f"Issued At is {issued - now} s ahead of this server", "message"
            )
        origin = urlsplit(parsed.uri)
        if origin.netloc != self.domain:
            raise Problem(
                401, "siwe_wrong_uri", f"the URI's origin is {origin.netloc!r}, this is {self.domain!r}", "message"
            )
        taken = s.execute(
            update(db.SiweNonce).where(db.SiweNonce.nonce == row.nonce, db.SiweNonce.used.is_(False)).values(used=True)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]  # a parallel sign-in with this message won the nonce
            s.rollback()
            raise Problem(401, "siwe_nonce_used", "the nonce was already used: ask for a new one", "message")
        token = secrets.token_urlsafe(32)
        expires = now + self.session_ttl
        if parsed.expiration_time is not None:
            expires = min(expires, int(parsed.expiration_time._datetime.timestamp()))
        address = Web3.to_checksum_address(parsed.address)
        self._make_room(s, address, now)
        s.add(db.AuthSession(token_hash=sha256(token), address=address, expires_at=expires, created_at=now))
        s.commit()
        return SignedIn(token, address, expires, parsed.request_id, list(parsed.resources or []))

    @staticmethod
    def _make_room(s: Session, address: str, now: int) -> None:
        """Ends the address's expired sessions and, to leave room for one more under MAX_SESSIONS, the oldest
        (the one about to begin is never among them)."""
        serialize(s, f"sessions:{address}")  # racing sign-ins of one address make room one after the other
        mine = db.AuthSession.address == address
        s.execute(delete(db.AuthSession).where(mine, db.AuthSession.expires_at <= now))
        keep = (
            select(db.AuthSession.token_hash)
            .where(mine)
            .order_by(db.AuthSession.created_at.desc(), db.AuthSession.token_hash)
            .limit(MAX_SESSIONS - 1)
        )
        s.execute(delete(db.AuthSession).where(mine, db.AuthSession.token_hash.not_in(keep.scalar_subquery())))

    def sessions_of(self, s: Session, address: str) -> list[db.AuthSession]:
        """The address's live sessions, newest first."""
        live = (db.AuthSession.address == address, db.AuthSession.expires_at > time.time())
        return list(s.scalars(select(db.AuthSession).where(*live).order_by(db.AuthSession.created_at.desc())))

    def end_session(self, s: Session, address: str, session_id: str) -> None:
        """Ends the address's session whose id (its token hash's first 16 hex digits) is `session_id`; another
        address's session is not there, as far as the caller knows (a 404)."""
        ended = s.execute(
            delete(db.AuthSession).where(
                db.AuthSession.address == address, db.AuthSession.token_hash.startswith(session_id, autoescape=True)
            )
        )
        if ended.rowcount != 1:  # type: ignore[attr-defined]  # 0: none of yours (ids are 64 bits: never 2)
            s.rollback()
            raise Problem(404, "session_not_found", f"no session {session_id} of yours", "session_id")
        s.commit()

    # ------------------------------------------------------------ API keys
    def create_key(self, s: Session, owner: str, name: str, rate_per_minute: int | None) -> tuple[db.ApiKey, str]:
        """A new key for `owner`, its rate at most the operator's `key_rate`, at most MAX_KEYS live per owner."""
        if rate_per_minute is not None and rate_per_minute > self.key_rate:
            raise Problem(422, "rate_above_cap", f"rate_per_minute is at most {self.key_rate} here", "rate_per_minute")
        live = s.scalar(select(func.count()).where(db.ApiKey.owner == owner, db.ApiKey.revoked.is_(False)))
        if (live or 0) >= MAX_KEYS:
            raise Problem(409, "too_many_api_keys", f"at most {MAX_KEYS} live API keys per address", "name")
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        row = db.ApiKey(
            owner=owner,
            name=name,
            prefix=key[:10],
            key_hash=sha256(key),
            rate_per_minute=rate_per_minute or self.key_rate,
            created_at=int(time.time()),
            revoked=False,
        )
        s.add(row)
        s.flush()
        return row, key

    # ------------------------------------------------------------ each request
    def identify(self, s: Session, authorization: str | None, api_key: str | None) -> Principal | None:
        """The caller behind the request's credentials (None without any). Every credential sent is checked: a
        bad one is a 401 even beside a good one, and two good ones are one too many (a 400)."""
        from_key = self._by_key(s, api_key) if api_key is not None else None
        from_session = self._by_session(s, authorization) if authorization is not None else None
        if from_key is not None and from_session is not None:
            raise Problem(400, "two_credentials", "send a session token or an API key, not both", "Authorization")
        principal = from_key or from_session
        if principal is None:
            return None
        self.limit(principal.credential, principal.rate_per_minute)
        return principal

    def _by_key(self, s: Session, api_key: str) -> Principal:
        row = s.scalar(select(db.ApiKey).where(db.ApiKey.key_hash == sha256(api_key)))
        if row is None or row.revoked:
            raise Problem(401, "invalid_api_key", "the API key is unknown or revoked", "X-API-Key")
        return Principal(row.owner, f"key:{row.id}", row.rate_per_minute)

    def _by_session(self, s: Session, authorization: str) -> Principal:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "invalid_authorization", "use 'Authorization: Bearer <token>'", "Authorization")
        digest = sha256(token.strip())
        session = s.get(db.AuthSession, digest)
        if session is None or session.expires_at <= time.time():
            raise Problem(401, "session_expired", "the session is unknown or expired: sign in again", "Authorization")
        return Principal(session.address, f"session:{digest[:16]}", self.session_rate, session_hash=digest)

    def limit_now(self, key: str, rate_per_minute: int) -> bool:
        """Spends one request of `key`'s allowance where that needs no database (an allowance this process
        holds already; an in-memory limiter): True if it did. False: `limit` decides, with the database."""
        return self.limiter is None or self.limiter.take_now(key, rate_per_minute)

    def limit(self, key: str, rate_per_minute: int, what: str = "requests") -> None:
        """Spends one of `key`'s allowance in the shared limiter; a 429 with Retry-After when none is left."""
        if self.limiter is None:
            return
        wait = self.limiter.take(key, rate_per_minute)
        if wait > 0:
            raise Problem(
                429,
                "rate_limited",
                f"more than {rate_per_minute} {what} a minute: retry in {wait:.1f} s",
                retry_after=max(1, math.ceil(wait)),
            )
