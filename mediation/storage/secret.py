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


#: ``conn.info`` key: (the transaction, the secret it read). Read once per transaction:
#: opening a case uses it twice (the dispute's party key, the parties' digest), a bulk
#: import a thousand times.
_SEEN = "mediation_installation_secret"


def installation_secret(conn: Connection) -> bytes:
    """The installation's secret, made now if the row is missing (in ``conn``'s write
    transaction; two writers making it at once keep the first one's)."""
    transaction = conn.get_transaction()
    seen = conn.info.get(_SEEN)
    if seen is not None and transaction is not None and seen[0] is transaction:
        return seen[1]
    found = _READ(conn, {}).scalar()
    if found is None:
        return _make(conn)  # not remembered: a savepoint rolled back could take it away
    secret = bytes.fromhex(found)
    conn.info[_SEEN] = (transaction, secret)
    return secret


def forget_secret(conn: Connection) -> None:
    """After ``conn``'s transaction wrote the secret's row (an import puts the source's in
    place): the next :func:`installation_secret` reads it again."""
    conn.info.pop(_SEEN, None)


def _make(conn: Connection) -> bytes:
    # Imported here: the PostgreSQL dialect costs a read command ~45 ms to import.
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(installation_secret_table)
        .values(id=ROW_ID, secret=new_secret(), created_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["id"])
    )
    return bytes.fromhex(_READ(conn, {}).scalar_one())
