"""Installation settings fixed when the database is made: a training database

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

``mediation init --training`` (and ``demo``) mark a new database as a training database:
only there is a pinned clock (``MEDIATION_NOW``) honoured, and its documents say 「培训演示」.
The mark is a row of ``installation_setting``, written once (the application role may
insert, never update or delete it: see ``mediation.storage.pgroles``), and recorded in the
audit chain.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mediation.storage._types import Timestamp

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installation_setting",
        sa.Column("name", sa.String(40), primary_key=True, nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("created_at", Timestamp(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("installation_setting")
