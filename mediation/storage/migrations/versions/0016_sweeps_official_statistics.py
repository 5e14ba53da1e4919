"""The official statistics: dispute sweeps (矛盾纠纷排查), and the events of a kind by time

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26

``sweep`` keeps each dispute sweep a committee or its grid workers held (``mediation
sweep add``): the official returns count the sweeps held and the disputes they found.
``ix_event_trigger_time`` finds the steps of a kind taken in a reporting period (the
agreements and terminations the official 调解成功率 counts, the prevention records)
without reading every event.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweep",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("held_by", sa.String(length=80), nullable=False),
        sa.Column("area", sa.String(length=300), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Text(), server_default="[]", nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sweep_held", "sweep", ["held_on", "organisation_id"])
    op.create_index("ix_event_trigger_time", "event", ["trigger", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_event_trigger_time", table_name="event")
    op.drop_index("ix_sweep_held", table_name="sweep")
    op.drop_table("sweep")
