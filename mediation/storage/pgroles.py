"""Least-privilege PostgreSQL roles: what the application's own login may do.

Two roles: the **owner** (runs ``mediation init`` / ``db upgrade``, owns the tables, does
imports) and the **application** login that mediators' commands and the scheduler use.
The application may read and write the application's tables only, may never delete a
row, may not change the history (case and access events: insert, and set their hash-chain
columns once when sealing), and may run no DDL. :func:`grants_sql` writes the statements
from the schema itself, so a new table is covered the day it is added.
"""

from __future__ import annotations

from mediation.storage._tables import metadata

#: Tables the application appends to but never rewrites: only the chain columns, which
#: the inserting transaction (links) and the sealing step (positions) set once.
APPEND_ONLY = {"event": ("chain_seq", "prev_hash", "hash"), "access_event": ("chain_seq", "hash")}
#: Tables the application reads, and writes only to make a missing row, never to change
#: one: the installation's secret (mediation.storage.secret; the key of party_key) and
#: its settings (mediation.storage.settings: a training database).
WRITE_ONCE = {"installation_secret", "installation_setting"}


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def grants_sql(app_role: str, *, schema: str = "public") -> str:
    """The SQL an owner runs (psql) to give ``app_role`` the application's privileges."""
    role, sch = _ident(app_role), _ident(schema)
    lines = [
        "-- Run as the owner of the mediation tables, after `mediation db upgrade`.",
        f"REVOKE CREATE ON SCHEMA {sch} FROM PUBLIC;",
        f"GRANT USAGE ON SCHEMA {sch} TO {role};",
        f"GRANT SELECT ON {sch}.alembic_version TO {role};",
    ]
    for table in metadata.sorted_tables:
        name = f"{sch}.{_ident(table.name)}"
        chain = APPEND_ONLY.get(table.name)
        if chain:
            columns = ", ".join(chain)
            lines.append(f"GRANT SELECT, INSERT, UPDATE ({columns}) ON {name} TO {role};")
        elif table.name in WRITE_ONCE:
            lines.append(f"GRANT SELECT, INSERT ON {name} TO {role};")
        else:
            lines.append(f"GRANT SELECT, INSERT, UPDATE ON {name} TO {role};")
    lines.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sch} TO {role};")
    # Seals committed events into the database-wide chain (revision 0008), with the
    # caller's rights: the chain columns above and the head.
    seal = f"{sch}.mediation_seal(boolean)"
    lines.append(f"REVOKE EXECUTE ON FUNCTION {seal} FROM PUBLIC;")
    lines.append(f"GRANT EXECUTE ON FUNCTION {seal} TO {role};")
    return "\n".join(lines) + "\n"
