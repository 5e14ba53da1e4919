"""dispute_merge: merging a dispute reported through two channels, and splitting it again

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
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
        "dispute_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kept_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("merged_by", sa.String(length=80), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("split_by", sa.String(length=80), nullable=True),
        sa.Column("split_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("split_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["kept_id"], ["dispute.id"]),
        sa.ForeignKeyConstraint(["merged_id"], ["dispute.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dispute_merge_kept", "dispute_merge", ["kept_id"])


def downgrade() -> None:
    op.drop_index("ix_dispute_merge_kept", table_name="dispute_merge")
    op.drop_table("dispute_merge")
