"""organisation.court_code: the court's code (法院代字) its case numbers are built from

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-26

A court numbers its cases （2026）浙0681民初123号: the year, the court's code (浙0681), the
type of case (民初, 民特) and a serial. Only organisations of kind ``court`` have one
(``mediation org set-court-code``); everything else keeps its ``X人调字第N号`` numbers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite 3.35+ drops a column in place): a batch
# rebuild of ``organisation`` would drop a table every case refers to.


def upgrade() -> None:
    op.add_column("organisation", sa.Column("court_code", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("organisation", "court_code")
