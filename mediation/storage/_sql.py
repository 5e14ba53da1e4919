"""Statements compiled once per database dialect and run straight through the driver.

The engine's write path runs the same handful of statements for every transition;
building and caching a Core statement costs more than the database does for these small
writes, so each is compiled once per dialect and executed with ``exec_driver_sql``, with
the column types' own bind processors applied to the parameters.

Even ``exec_driver_sql`` costs several times what SQLite does for such a statement (an
execution context and a result object each, some 50 µs against 10), so the statement runs
on the connection's own driver cursor, inside the transaction SQLAlchemy began, and comes
back as a small :class:`Rows`. Errors are raised as SQLAlchemy's
(``sqlalchemy.exc.IntegrityError``...; a lost connection invalidated, as SQLAlchemy does),
and the statement (never its parameters) is logged as the engine logs it.
"""

from __future__ import annotations

import logging
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_Param = tuple[str, str, "Callable[[Any], Any] | None", Any]


class Prepared:
    """A Core statement, compiled lazily for each dialect it meets."""

    __slots__ = ("_compiled", "_processors", "_row", "_shape", "_typed", "statement")

    def __init__(self, statement: ClauseElement, *, typed: bool = False) -> None:
        """``typed``: the selected columns' values come back as their column types make them
        (a JSON column parsed, a timestamp aware), as a Core execution returns them;
        otherwise as the driver gives them."""
        self.statement = statement
        self._typed = typed
        #: Per dialect, each result column's processor (None: the values as they come).
        self._processors: dict[str, list[Callable[[Any], Any] | None] | None] = {}
        self._compiled: dict[str, tuple[str, bool, list[_Param]]] = {}
        self._row: tuple[tuple[str, ...], type] | None = None
        #: Per dialect, the row type of the statement's result (None: it returns no rows),
        #: learnt from the cursor's description the first time: the same statement always
        #: has the same result columns, and psycopg builds a description anew on each read.
        self._shape: dict[str, type | None] = {}

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
        if self._typed:
            columns = getattr(self.statement, "selected_columns", ())
            processors = [
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in columns
            ]
            self._processors[dialect.name] = processors if any(processors) else None
        return entry

    def _args(self, conn: Connection, values: Mapping[str, Any]) -> tuple[str, Any]:
        entry = self._compiled.get(conn.dialect.name) or self._compile(conn)
        sql, positional, params = entry
        if positional:
            return sql, tuple(_value(values, key, proc, lit) for _, key, proc, lit in params)
        return sql, {name: _value(values, key, proc, lit) for name, key, proc, lit in params}

    def __call__(self, conn: Connection, values: Mapping[str, Any]) -> Rows:
        """Run on the connection's own driver cursor, inside the transaction ``conn`` is
        in (see the module's text)."""
        sql, args = self._args(conn, values)
        if _log.isEnabledFor(logging.INFO):
            _log.info(sql)
        raw: Any = conn.connection.driver_connection
        cursor = raw.cursor()
        try:
            dialect = conn.dialect.name
            try:
                cursor.execute(sql, args)
                if dialect in self._shape:
                    make = self._shape[dialect]
                else:
                    make = self._shape[dialect] = self._row_type(cursor.description)
                fetched = cursor.fetchall() if make is not None else []
            except conn.dialect.loaded_dbapi.Error as exc:
                raise driver_error(conn, exc, sql, cursor) from exc
            if make is None:
                return Rows([], cursor.rowcount)
            processors = self._processors.get(dialect)
            if processors:
                fetched = [
                    [p(v) if p else v for p, v in zip(processors, r, strict=True)] for r in fetched
                ]
            return Rows([make(*r) for r in fetched], cursor.rowcount)
        finally:
            cursor.close()

    def _row_type(self, description: Any) -> type | None:
        """The named-tuple type of rows described by ``description`` (None: no rows)."""
        if not description:
            return None
        names = tuple(d[0] for d in description)
        if self._row is None or self._row[0] != names:
            self._row = (names, namedtuple("Row", names, rename=True))
        return self._row[1]

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


_log = logging.getLogger("sqlalchemy.engine.Engine")


def driver_error(conn: Connection, exc: Any, sql: str, cursor: Any = None) -> Exception:
    """The driver's error ``exc`` from running ``sql`` on ``conn``'s own driver connection,
    as SQLAlchemy itself would raise it (``sqlalchemy.exc.IntegrityError``..., without the
    parameters); a lost connection is invalidated, so that the Store reconnects."""
    from sqlalchemy.exc import DBAPIError

    raw = conn.connection.driver_connection
    lost = conn.dialect.is_disconnect(exc, raw, cursor)
    if lost:
        conn.invalidate(exc)
    return DBAPIError.instance(
        sql,
        None,
        exc,
        conn.dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=lost,
        dialect=conn.dialect,
    )


class Rows:
    """What a statement run on the driver's own cursor returned: the parts of SQLAlchemy's
    result the engine uses (rows with attribute access and ``_asdict()``)."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: Sequence[Any], rowcount: int) -> None:
        self._rows, self.rowcount = rows, rowcount

    def all(self) -> Sequence[Any]:
        return self._rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            from sqlalchemy.exc import MultipleResultsFound, NoResultFound

            raise (NoResultFound if not self._rows else MultipleResultsFound)(
                f"expected one row, got {len(self._rows)}"
            )
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]


#: Marks a named bindparam() whose value the caller must give (a literal may be None).
_REQUIRED = object()


def _value(values: Mapping[str, Any], key: str, proc: Any, literal: Any) -> Any:
    value = values[key] if literal is _REQUIRED else values.get(key, literal)
    return proc(value) if proc else value
