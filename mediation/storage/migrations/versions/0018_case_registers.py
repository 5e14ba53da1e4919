"""Case numbers per register: each word (人调, 医调, 民初, 民特 ...) numbers from 1

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08

Until now an organisation's cases shared one serial a year whatever their register, so a
committee's first 医调 case after three 人调 ones was （2026）X医调字第4号 and a court's first
民特 case after five 民初 ones 民特6号. Each register numbers from 1 per organisation and year:
``proceeding.case_word`` holds a case's register, the serials are unique per register
(``uq_case_serial``) and ``case_counter`` keeps one counter per (organisation, year, word),
seeded from the highest serial each register already used, so that no number repeats.

SQLite: ``proceeding``'s unique constraint changes by rebuilding the table (batch mode),
which ``mediation.storage.store.Store.migrating`` runs with foreign keys off and checked
before commit; ``case_counter`` nothing refers to is made again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

#: Each flow's register as this revision was written (``Flow.court_case_type`` or else
#: ``Flow.case_word``): the flows of a later version may change, this mapping may not.
_WORDS = {
    "peoples": "人调",
    "medical_committee": "医调",
    "petition": "信调",
    "court_referred": "委调",
    "judicial_confirmation": "民特",
    "labour": "劳调",
    "land_contract": "土调",
    "administrative": "行调",
    "health_admin": "卫调",
    "traffic_police": "交调",
    "public_order": "治调",
    "judicial": "民初",
    "judicial_simple": "民初",
    "entrusted": "委托调",
    "entrusted_simple": "委托调",
    "traffic": "交人调",
    "online": "在线调",
}


def _counter(*, word: bool) -> None:
    columns: list[sa.Column[object]] = [
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
    ]
    key = ["organisation_id", "year"]
    if word:
        columns.append(sa.Column("word", sa.String(length=20), nullable=False))
        key.append("word")
    op.create_table(
        "case_counter",
        *columns,
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint(*key),
    )


def _rebuild_counter(*, word: bool) -> None:
    """Make ``case_counter`` again keyed with (or without) the word, seeded from the
    serials the cases hold (and, going back, from the counters themselves)."""
    conn = op.get_bind()
    if word:
        seeds = conn.execute(
            sa.text(
                "SELECT organisation_id, case_year, case_word, MAX(case_serial) FROM proceeding"
                " GROUP BY organisation_id, case_year, case_word"
            )
        ).all()
        rows = [{"o": o, "y": y, "w": w, "last": last} for o, y, w, last in seeds]
    else:
        seeds = conn.execute(
            sa.text(
                "SELECT organisation_id, year, MAX(last) FROM case_counter"
                " GROUP BY organisation_id, year"
            )
        ).all()
        rows = [{"o": o, "y": y, "last": last} for o, y, last in seeds]
    if conn.dialect.name == "postgresql":
        # Altered in place: the grants of ``db grants`` stay.
        op.execute("DELETE FROM case_counter")
        op.drop_constraint("case_counter_pkey", "case_counter", type_="primary")
        if word:
            op.add_column("case_counter", sa.Column("word", sa.String(length=20), nullable=False))
            op.create_primary_key(
                "case_counter_pkey", "case_counter", ["organisation_id", "year", "word"]
            )
        else:
            op.drop_column("case_counter", "word")
            op.create_primary_key("case_counter_pkey", "case_counter", ["organisation_id", "year"])
    else:
        op.drop_table("case_counter")
        _counter(word=word)
    if rows:
        if word:
            insert = "INSERT INTO case_counter (organisation_id, year, word, last)"
            values = " VALUES (:o, :y, :w, :last)"
        else:
            insert = "INSERT INTO case_counter (organisation_id, year, last)"
            values = " VALUES (:o, :y, :last)"
        conn.execute(sa.text(insert + values), rows)


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column("proceeding", sa.Column("case_word", sa.String(length=20), nullable=True))
    fill = sa.text("UPDATE proceeding SET case_word = :word WHERE flow = :flow")
    conn.execute(fill, [{"flow": f, "word": w} for f, w in _WORDS.items()])
    # A flow this revision does not know keeps a register of its own.
    conn.execute(sa.text("UPDATE proceeding SET case_word = flow WHERE case_word IS NULL"))
    with op.batch_alter_table("proceeding", recreate="auto") as batch:
        batch.alter_column("case_word", existing_type=sa.String(length=20), nullable=False)
        batch.drop_constraint("uq_case_serial", type_="unique")
        batch.create_unique_constraint(
            "uq_case_serial", ["organisation_id", "case_year", "case_word", "case_serial"]
        )
    _rebuild_counter(word=True)


def downgrade() -> None:
    conn = op.get_bind()
    # Back to one serial per organisation and year: the counters' highest, and a case whose
    # serial another register's case already holds is given a new one above them (its
    # printed number, ``case_number``, stays as it is).
    _rebuild_counter(word=False)
    clashes = conn.execute(
        sa.text(
            "SELECT p.id, p.organisation_id, p.case_year FROM proceeding p"
            " WHERE EXISTS (SELECT 1 FROM proceeding q WHERE q.organisation_id ="
            " p.organisation_id AND q.case_year = p.case_year AND q.case_serial ="
            " p.case_serial AND q.id < p.id) ORDER BY p.id"
        )
    ).all()
    for pid, org, year in clashes:
        last = conn.execute(
            sa.text(
                "SELECT MAX(case_serial) FROM proceeding"
                " WHERE organisation_id = :o AND case_year = :y"
            ),
            {"o": org, "y": year},
        ).scalar_one()
        counted = conn.execute(
            sa.text("SELECT last FROM case_counter WHERE organisation_id = :o AND year = :y"),
            {"o": org, "y": year},
        ).scalar()
        serial = max(last, counted or 0) + 1
        conn.execute(
            sa.text("UPDATE proceeding SET case_serial = :s WHERE id = :id"),
            {"s": serial, "id": pid},
        )
        conn.execute(
            sa.text("UPDATE case_counter SET last = :s WHERE organisation_id = :o AND year = :y"),
            {"s": serial, "o": org, "y": year},
        )
    with op.batch_alter_table("proceeding", recreate="auto") as batch:
        batch.drop_constraint("uq_case_serial", type_="unique")
        batch.create_unique_constraint(
            "uq_case_serial", ["organisation_id", "case_year", "case_serial"]
        )
        batch.drop_column("case_word")
