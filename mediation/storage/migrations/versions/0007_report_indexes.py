"""Statistics report: the parties' key of a dispute (repeat detection) and covering indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _party_key(persons: list[str]) -> str:
    """As ``mediation.domain.personal.party_key`` (then in mediation.reporting.stats) computed it when this revision was written."""
    text = "\x1f".join((str(len(persons)), min(persons), max(persons)))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def upgrade() -> None:
    with op.batch_alter_table("dispute") as batch:
        batch.add_column(sa.Column("party_key", sa.String(length=32), nullable=True))
    conn = op.get_bind()
    persons: dict[int, list[str]] = defaultdict(list)
    rows = conn.execute(sa.text("SELECT dispute_id, id_number, name, phone FROM party"))
    for dispute_id, id_number, name, phone in rows:
        persons[dispute_id].append(id_number or f"{name}/{phone or ''}")
    update = sa.text("UPDATE dispute SET party_key = :key WHERE id = :id")
    keys = [{"id": d, "key": _party_key(p)} for d, p in persons.items()]
    for start in range(0, len(keys), 10_000):
        conn.execute(update, keys[start : start + 10_000])
    op.create_index("ix_dispute_party_key", "dispute", ["party_key", "dispute_type", "received_at"])
    op.create_index(
        "ix_proceeding_report",
        "proceeding",
        [
            "flow",
            "state",
            "outcome",
            "level",
            "opened_at",
            "organisation_id",
            "parent_id",
            "dispute_id",
        ],
    )
    op.create_index(
        "ix_deadline_clock",
        "deadline",
        ["proceeding_id", "kind", "duty", "status", "starts_on", "due", "closed_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_deadline_clock", table_name="deadline")
    op.drop_index("ix_proceeding_report", table_name="proceeding")
    op.drop_index("ix_dispute_party_key", table_name="dispute")
    # Not a batch (on SQLite: copy the table, which its foreign keys forbid); SQLite has
    # had ALTER TABLE ... DROP COLUMN since 3.35.
    op.drop_column("dispute", "party_key")
