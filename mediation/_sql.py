"""Statements compiled once per database dialect and run straight through the driver.

The engine's write path runs the same handful of statements for every transition;
building and caching a Core statement costs more than the database does for these small
writes, so each is compiled once per dialect and executed with ``exec_driver_sql``, with
the column types' own bind processors applied to the parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, CursorResult
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_Param = tuple[str, str, "Callable[[Any], Any] | None", Any]


class Prepared:
    """A Core statement, compiled lazily for each dialect it meets."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, bool, list[_Param]]] = {}

    def _compile(self, conn: Connection) -> tuple[str, bool, list[_Param]]:
        dialect = conn.dialect
        compiled: SQLCompiler = self.statement.compile(dialect=dialect)  # type: ignore[assignment]
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("Prepared cannot run expanding IN (...) parameters; use or_()")
        positional = bool(compiled.positional)
        names = list(compiled.positiontup or []) if positional else list(compiled.binds)
        params: list[_Param] = []
        for name in names:
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            # Literals in the statement (``status == "open"``) are anonymous binds
            # carrying their own value; named ``bindparam()``s come from the caller.
            params.append((name, bind.key, processor, _REQUIRED if bind.required else bind.value))
        entry = (compiled.string, positional, params)
        self._compiled[dialect.name] = entry
        return entry

    def _args(self, conn: Connection, values: Mapping[str, Any]) -> tuple[str, Any]:
        entry = self._compiled.get(conn.dialect.name) or self._compile(conn)
        sql, positional, params = entry
        if positional:
            return sql, tuple(_value(values, key, proc, lit) for _, key, proc, lit in params)
        return sql, {name: _value(values, key, proc, lit) for name, key, proc, lit in params}

    def __call__(self, conn: Connection, values: Mapping[str, Any]) -> CursorResult[Any]:
        return conn.exec_driver_sql(*self._args(conn, values))

    def tuples(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """All result rows as the driver's plain tuples, for bulk reads (reports).

        Runs on the connection's own DBAPI cursor, inside the transaction ``conn`` is in;
        values come back as the driver gives them (ISO strings for dates on SQLite).
        """
        sql, args = self._args(conn, values)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, args)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
        finally:
            cursor.close()


#: Marks a named bindparam() whose value the caller must give (a literal may be None).
_REQUIRED = object()


def _value(values: Mapping[str, Any], key: str, proc: Any, literal: Any) -> Any:
    value = values[key] if literal is _REQUIRED else values.get(key, literal)
    return proc(value) if proc else value
