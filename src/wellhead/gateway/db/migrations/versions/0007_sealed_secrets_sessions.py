"""credentials: webhook secrets sealed (longer column), sessions carry when they began (for listing and the cap)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.alter_column("secret", type_=sa.String(length=255), existing_type=sa.String(length=100))
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("created_at", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_index("ix_auth_sessions_address_created", "auth_sessions", ["address", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_auth_sessions_address_created", table_name="auth_sessions")
    with op.batch_alter_table("auth_sessions") as batch:
        batch.drop_column("created_at")
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.alter_column("secret", type_=sa.String(length=100), existing_type=sa.String(length=255))
