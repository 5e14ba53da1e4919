"""The parties' key of a dispute becomes an HMAC under the installation's secret

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24

Until now ``dispute.party_key`` was an unsalted SHA-256 of the parties' ID numbers
(revision 0007): with a masked ID number and its check digit, both numbers were found
again by trying the candidates. This revision makes the installation's secret (one row of
``installation_secret``, 32 random bytes) and recomputes every dispute's key as an
HMAC-SHA256 under it (see ``mediation.storage.secret``). The downgrade puts the plain
SHA-256 keys back and drops the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from mediation.storage._types import Timestamp

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_SECRET = sa.table(
    "installation_secret",
    sa.column("id", sa.Integer()),
    sa.column("secret", sa.String()),
    sa.column("created_at", Timestamp()),
)


def _text(persons: list[str]) -> bytes:
    """What ``mediation.domain.personal.party_key`` digests, as when this revision was written."""
    return "\x1f".join((str(len(persons)), min(persons), max(persons))).encode()


def _rekey(conn: sa.Connection, key: Callable[[bytes], str]) -> None:
    """Store ``key`` of the parties of every dispute that has parties."""
    persons: dict[int, list[str]] = defaultdict(list)
    rows = conn.execute(sa.text("SELECT dispute_id, id_number, name, phone FROM party"))
    for dispute_id, id_number, name, phone in rows:
        persons[dispute_id].append(id_number or f"{name}/{phone or ''}")
    update = sa.text("UPDATE dispute SET party_key = :key WHERE id = :id")
    keys = [{"id": d, "key": key(_text(p))} for d, p in persons.items()]
    for start in range(0, len(keys), 10_000):
        conn.execute(update, keys[start : start + 10_000])


def upgrade() -> None:
    op.create_table(
        "installation_secret",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    conn = op.get_bind()
    secret = secrets.token_hex(32)
    conn.execute(sa.insert(_SECRET).values(id=1, secret=secret, created_at=datetime.now(UTC)))
    raw = bytes.fromhex(secret)
    _rekey(conn, lambda text: hmac.new(raw, text, hashlib.sha256).hexdigest()[:32])


def downgrade() -> None:
    _rekey(op.get_bind(), lambda text: hashlib.sha256(text).hexdigest()[:32])
    op.drop_table("installation_secret")
