"""undo log: projection rows as they stood before each recent block, so a reorg undoes only what it orphaned

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "undo_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("table", sa.String(length=32), nullable=False),
        sa.Column("key", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
    )
    op.create_index("ix_undo_log_block_number", "undo_log", ["block_number"])


def downgrade() -> None:
    # the journal is only an accelerator: without it every reorg replays the whole history, as before; the mark
    # of how far back it reaches goes with it (an upgrade after must not trust a journal that has gaps)
    op.execute("DELETE FROM indexer_state WHERE key = 'undo_from'")
    op.drop_index("ix_undo_log_block_number", table_name="undo_log")
    op.drop_table("undo_log")
