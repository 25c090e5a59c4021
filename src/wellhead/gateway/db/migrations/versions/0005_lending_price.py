"""lending price: each NAV round's lending price and track record

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nav_rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lending_price", sa.String(length=78), nullable=True))
        batch_op.add_column(sa.Column("capped_price", sa.String(length=78), nullable=True))
        batch_op.add_column(sa.Column("full_windows", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nav_rounds", schema=None) as batch_op:
        batch_op.drop_column("full_windows")
        batch_op.drop_column("capped_price")
        batch_op.drop_column("lending_price")
