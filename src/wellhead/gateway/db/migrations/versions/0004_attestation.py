"""attestation: attestor sets, report status and disputes, each attestor's observation, grid declarations

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_observations",
        sa.Column("asset_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("epoch", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("observer", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("attestor", sa.String(length=42), nullable=False),
        sa.Column("uptime_bps", sa.Integer(), nullable=False),
        sa.Column("curtailed_bps", sa.Integer(), nullable=False),
        sa.Column("gpu_energy_wh", sa.String(length=78), nullable=False),
        sa.Column("facility_energy_wh", sa.String(length=78), nullable=False),
        sa.Column("mining_energy_wh", sa.String(length=78), nullable=False),
        sa.Column("mining_revenue", sa.String(length=78), nullable=False),
        sa.Column("renewable_bps", sa.Integer(), nullable=False),
        sa.Column("carbon_grams_per_kwh", sa.Integer(), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("asset_id", "epoch", "observer"),
    )
    with op.batch_alter_table("report_observations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_observations_evidence_hash"), ["evidence_hash"], unique=False)
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attestors", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("fault_tolerance", sa.Integer(), nullable=True))
    with op.batch_alter_table("epochs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("attestation", sa.JSON(), nullable=True))
    with op.batch_alter_table("grid_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("program_event_id", sa.String(length=66), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("grid_events", schema=None) as batch_op:
        batch_op.drop_column("program_event_id")
    with op.batch_alter_table("epochs", schema=None) as batch_op:
        batch_op.drop_column("attestation")
        batch_op.drop_column("report_status")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("fault_tolerance")
        batch_op.drop_column("attestors")
    with op.batch_alter_table("report_observations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_observations_evidence_hash"))
    op.drop_table("report_observations")
