"""Finding cases: indexes on the parties' ID numbers, phones and names, and on filing time

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25

``case list --id-number/--phone`` and the intake's check for the same parties' open cases
look parties up by exact value; ``case list`` pages through cases latest filed first.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_party_id_number", "party", ["id_number"])
    op.create_index("ix_party_phone", "party", ["phone"])
    op.create_index("ix_party_name", "party", ["name"])
    op.create_index("ix_proceeding_opened", "proceeding", ["opened_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_proceeding_opened", table_name="proceeding")
    op.drop_index("ix_party_name", table_name="party")
    op.drop_index("ix_party_phone", table_name="party")
    op.drop_index("ix_party_id_number", table_name="party")
