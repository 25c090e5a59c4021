"""scale-out: one delivery per webhook message, shared rate limits, indexes for hot lookups and retention

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # duplicates queued by racing enqueuers before this revision: keep the first row of each message
    op.execute(
        "DELETE FROM webhook_deliveries WHERE id NOT IN (SELECT min(id) FROM webhook_deliveries GROUP BY message_id)"
    )
    op.create_index("uq_webhook_deliveries_message", "webhook_deliveries", ["message_id"], unique=True)
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_created", "webhook_deliveries", ["created_at"])
    op.create_index("ix_epochs_evidence_hash", "epochs", ["evidence_hash"])
    op.create_index("ix_siwe_nonces_issued_at", "siwe_nonces", ["issued_at"])
    op.create_index("ix_auth_sessions_expires_at", "auth_sessions", ["expires_at"])
    op.create_index("ix_idempotency_records_created_at", "idempotency_records", ["created_at"])
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=96), primary_key=True),
        sa.Column("tat", sa.Float(), nullable=False),
    )
    op.create_index("ix_rate_limits_tat", "rate_limits", ["tat"])


def downgrade() -> None:
    op.drop_index("ix_rate_limits_tat", table_name="rate_limits")
    op.drop_table("rate_limits")
    for name, table in (
        ("ix_idempotency_records_created_at", "idempotency_records"),
        ("ix_auth_sessions_expires_at", "auth_sessions"),
        ("ix_siwe_nonces_issued_at", "siwe_nonces"),
        ("ix_epochs_evidence_hash", "epochs"),
        ("ix_webhook_deliveries_created", "webhook_deliveries"),
        ("ix_webhook_deliveries_due", "webhook_deliveries"),
        ("uq_webhook_deliveries_message", "webhook_deliveries"),
    ):
        op.drop_index(name, table_name=table)
