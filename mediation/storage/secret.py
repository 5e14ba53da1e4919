"""The installation's secret: the HMAC key of the parties' key of a dispute
(:func:`mediation.domain.personal.party_key`, ``dispute.party_key``).

One row of ``installation_secret``, 32 random bytes, made by revision 0009 (``mediation
init`` / ``db upgrade``) and again on first use should the row be gone. It lives in the
database beside the ID numbers it protects: whoever can read it can read those numbers
in full already, so it adds no exposure; and a backup or a move carries it with the data,
so keys made before and after stay comparable (repeat detection). It is never shown and
never in a masked export; a revealed export (full personal data anyway) carries it, and
the import puts it in place of the new database's own. See docs/admin/security.md.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from mediation.storage._sql import Prepared
from mediation.storage._tables import installation_secret_table

#: The one row's id.
ROW_ID = 1

_READ = Prepared(
    select(installation_secret_table.c.secret).where(installation_secret_table.c.id == ROW_ID)
)


def new_secret() -> str:
    """A fresh secret, as stored: 32 random bytes in hex."""
    return secrets.token_hex(32)


def installation_secret(conn: Connection) -> bytes:
    """The installation's secret, made now if the row is missing (in ``conn``'s write
    transaction; two writers making it at once keep the first one's)."""
    found = _READ(conn, {}).scalar()
    if found is None:
        # Imported here: the PostgreSQL dialect costs a read command ~45 ms to import.
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(installation_secret_table)
            .values(id=ROW_ID, secret=new_secret(), created_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["id"])
        )
        found = _READ(conn, {}).scalar_one()
    return bytes.fromhex(found)
