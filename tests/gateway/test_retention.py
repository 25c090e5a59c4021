"""Retention: what grows with traffic is pruned, and only what is past its time (the edge second kept)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from wellhead.gateway import db
from wellhead.gateway.services.auth import NONCE_TTL
from wellhead.gateway.services.retention import DAY, prune

NOW = 2_000_000_000


def delivery(i: int, status: str, created_at: int) -> db.WebhookDelivery:
    return db.WebhookDelivery(
        subscription_id=1, message_id=f"msg_{i}", event_type="epoch.settled", payload={}, status=status,
        attempts=1, next_attempt_at=0.0, created_at=created_at,
    )  # fmt: skip


def test_each_table_keeps_what_is_within_its_time(sessions: sessionmaker[Session]) -> None:
    month, edge = 30 * DAY, NOW - 30 * DAY
    with sessions.begin() as s:
        s.add_all([
            delivery(1, "delivered", edge - 1), delivery(2, "failed", edge - 1),  # past: pruned
            delivery(3, "delivered", edge), delivery(4, "pending", edge - month),  # the edge second; still due
            db.SiweNonce(nonce="old", issued_at=NOW - NONCE_TTL - 3_600 - 1, used=False),
            db.SiweNonce(nonce="edge", issued_at=NOW - NONCE_TTL - 3_600, used=False),
            db.AuthSession(token_hash="a" * 64, address="0x" + "1" * 40, expires_at=NOW - 1),
            db.AuthSession(token_hash="b" * 64, address="0x" + "1" * 40, expires_at=NOW),
            db.IdempotencyRecord(principal="key:1", key="k", request_hash="h", created_at=NOW - DAY - 1),
            db.IdempotencyRecord(principal="key:2", key="k", request_hash="h", created_at=NOW - DAY),
            db.RateLimit(key="ip:1", tat=NOW - 0.5), db.RateLimit(key="ip:2", tat=float(NOW)),
        ])  # fmt: skip
    deleted = prune(sessions, now=NOW)
    assert deleted == {
        "webhook_deliveries": 2,
        "siwe_nonces": 1,
        "auth_sessions": 1,
        "idempotency_records": 1,
        "rate_limits": 1,
        "relayed_transactions": 0,
    }
    with sessions() as s:
        assert sorted(s.scalars(select(db.WebhookDelivery.message_id))) == ["msg_3", "msg_4"]
        assert list(s.scalars(select(db.SiweNonce.nonce))) == ["edge"]
        assert list(s.scalars(select(db.IdempotencyRecord.principal))) == ["key:2"], "same key, other caller"
        assert s.scalar(select(func.count()).select_from(db.AuthSession)) == 1
        assert list(s.scalars(select(db.RateLimit.key))) == ["ip:2"]
    assert set(prune(sessions, now=NOW).values()) == {0}, "nothing twice"
