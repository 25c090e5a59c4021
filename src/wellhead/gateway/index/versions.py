"""The index's version on the wire: the indexer publishes each new one to the API replicas (PostgreSQL
LISTEN/NOTIFY on CHANNEL, "next_block:rollbacks"), in the transaction that moves it, so it arrives on commit."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "wellhead_index"
# the revision of settled history: reorgs rolled back and settled epochs amended (an equivocation proven) so
# far; with the index position it makes the version caches key answers by
ROLLBACKS = "rollbacks"


def publish(s: Session, version: tuple[int, int]) -> None:
    """Announces `version` to every listening replica when the caller's transaction commits (PostgreSQL)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": f"{version[0]}:{version[1]}"}
        )
