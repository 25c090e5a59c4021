"""Retention: every table that grows with traffic (not with the chain) is pruned, in bounded batches, by the
active indexer (one process does it, whatever the number of replicas).

| table | kept |
|---|---|
| `webhook_deliveries` | delivered or failed: 30 days (the delivery log a subscriber can read); pending: until done |
| `siwe_nonces` | until used or 10 minutes old, plus an hour |
| `auth_sessions` | until they expire |
| `idempotency_records` | 24 hours (a retry comes within minutes; the IETF draft suggests 24 h) |
| `rate_limits` | until the key's allowance is whole again |
| `relayed_transactions` | confirmed or failed: 90 days |
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from wellhead.gateway import db
from wellhead.gateway.services.auth import NONCE_TTL

DAY = 86_400
BATCH = 5_000  # rows per statement: no long lock on a big backlog


@dataclass(frozen=True)
class Retention:
    deliveries: int = 30 * DAY
    idempotency: int = DAY
    relayed: int = 90 * DAY


def prune(sessions: sessionmaker[Session], now: float | None = None, keep: Retention | None = None) -> dict[str, int]:
    """Deletes what is past its retention; answers the rows deleted per table."""
    t = time.time() if now is None else now
    k = keep or Retention()
    rules = {
        "webhook_deliveries": (
            db.WebhookDelivery,
            db.WebhookDelivery.id,
            (db.WebhookDelivery.status != "pending", db.WebhookDelivery.created_at < t - k.deliveries),
        ),
        "siwe_nonces": (db.SiweNonce, db.SiweNonce.nonce, (db.SiweNonce.issued_at < t - NONCE_TTL - 3_600,)),
        "auth_sessions": (db.AuthSession, db.AuthSession.token_hash, (db.AuthSession.expires_at < t,)),
        "idempotency_records": (
            db.IdempotencyRecord,
            db.IdempotencyRecord.key,
            (db.IdempotencyRecord.created_at < t - k.idempotency,),
        ),
        "rate_limits": (db.RateLimit, db.RateLimit.key, (db.RateLimit.tat < t,)),
        "relayed_transactions": (
            db.RelayedTransaction,
            db.RelayedTransaction.hash,
            (db.RelayedTransaction.status != "pending", db.RelayedTransaction.submitted_at < t - k.relayed),
        ),
    }
    deleted: dict[str, int] = {}
    for name, (model, key, conditions) in rules.items():
        total = 0
        while True:
            with sessions.begin() as s:
                batch = select(key).where(*conditions).limit(BATCH).scalar_subquery()
                gone = s.execute(delete(model).where(key.in_(batch), *conditions)).rowcount  # type: ignore[attr-defined]
            total += int(gone)
            if gone < BATCH:
                break
        deleted[name] = total
    return deleted
