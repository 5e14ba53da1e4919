"""A query's rows straight from the database driver, for the checks that read whole tables
(:mod:`.audit_scan`, :mod:`.record_scan`): plain tuples of the values as stored, no
SQLAlchemy row or type processing, and on PostgreSQL a server-side cursor so that a table
of millions of rows is never held in memory at once."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

_names = itertools.count(1)


def driver_rows(
    conn: Connection, sql: str, params: tuple[Any, ...] = ()
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql`` (``?`` placeholders, made ``%s`` on PostgreSQL) on ``conn``'s
    driver connection, in its transaction. On SQLite the driver's cursor itself (nothing
    between it and the caller's loop: a scan reads millions of rows), closed when dropped."""
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name != "postgresql":
        cursor = raw.cursor()
        cursor.execute(sql, params)
        return cursor
    return _server_side(raw, sql.replace("?", "%s"), params)


def _server_side(raw: Any, sql: str, params: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    cursor = raw.cursor(name=f"mediation_audit_{next(_names)}")
    cursor.itersize = 5000
    try:
        cursor.execute(sql, params)
        yield from cursor
    finally:
        cursor.close()
